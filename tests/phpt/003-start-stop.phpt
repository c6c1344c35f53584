--TEST--
ReverbRs\Server starts on a free port and stops
--EXTENSIONS--
reverb_rs
--FILE--
<?php
$server = new ReverbRs\Server([
    'servers' => ['reverb' => ['host' => '127.0.0.1', 'port' => 0]],
    'apps' => ['apps' => [['app_id' => '1', 'key' => 'k', 'secret' => 's']]],
]);
$server->start();
var_dump($server->isRunning(), $server->port() > 0);
$server->stop(0.5);
var_dump($server->isRunning());
try {
    new ReverbRs\Server(['apps' => ['apps' => [['app_id' => '1', 'key' => 'k', 'secret' => 's', 'port' => []]]]]);
    echo "unknown keys are ignored\n";
    new ReverbRs\Server(['apps' => ['apps' => [['app_id' => '1', 'key' => 'k']]]]);
} catch (ReverbRs\ConfigException $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECTF--
bool(true)
bool(true)
bool(false)
unknown keys are ignored
apps.apps.0.secret is required and must not be empty%s
