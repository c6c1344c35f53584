<?php

/**
 * Prints package.xml, the PECL package description, listing every file the extension's
 * build needs (the Cargo workspace, config.m4, Makefile.frag) and its .phpt tests.
 *
 *   php scripts/package-xml.php > package.xml
 *
 * `make test-install` checks that the committed package.xml is what this prints.
 */

declare(strict_types=1);

chdir(dirname(__DIR__));

$cargo = (string) file_get_contents('Cargo.toml');
preg_match('/^\[workspace\.package\][^\[]*?^version = "([^"]+)"/ms', $cargo, $match);
$version = $match[1] ?? '0.0.0';

$tracked = array_filter(explode("\n", (string) shell_exec('git ls-files --cached --others --exclude-standard')));
$needed = array_values(array_filter($tracked, fn (string $file): bool => in_array($file, [
    'Cargo.toml', 'Cargo.lock', 'config.m4', 'Makefile.frag', 'README.md',
    'engine/Cargo.toml', 'bench/Cargo.toml',
], true) || preg_match('#^(src|engine/src|bench/src)/.+\.rs$#', $file) || preg_match('#^tests/phpt/.+\.phpt$#', $file)));
sort($needed);

$files = implode("\n", array_map(function (string $file): string {
    $role = str_starts_with($file, 'tests/') ? 'test' : (str_ends_with($file, '.md') ? 'doc' : 'src');
    return "      <file name=\"{$file}\" role=\"{$role}\"/>";
}, $needed));

echo <<<XML
<?xml version="1.0" encoding="UTF-8"?>
<package version="2.0" xmlns="http://pear.php.net/dtd/package-2.0" xmlns:tasks="http://pear.php.net/dtd/tasks-1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://pear.php.net/dtd/tasks-1.0 http://pear.php.net/dtd/tasks-1.0.xsd http://pear.php.net/dtd/package-2.0 http://pear.php.net/dtd/package-2.0.xsd">
  <name>reverb_rs</name>
  <channel>pecl.php.net</channel>
  <summary>A Pusher-protocol WebSocket server for Laravel, running inside PHP</summary>
  <description>reverb_rs runs a Pusher protocol 7 WebSocket server (the protocol of pusher-js and laravel-echo) and the Pusher HTTP API on background threads of the PHP process, and ships a native Pusher HTTP API client. Building it needs Rust (cargo 1.85 or later) and libclang.</description>
  <lead>
    <name>reverb-rs</name>
    <user>reverb-rs</user>
    <email>maintainers@reverb-rs.dev</email>
    <active>yes</active>
  </lead>
  <date>2026-11-26</date>
  <version>
    <release>{$version}</release>
    <api>{$version}</api>
  </version>
  <stability>
    <release>beta</release>
    <api>beta</api>
  </stability>
  <license uri="https://opensource.org/licenses/MIT">MIT</license>
  <notes>See README.md.</notes>
  <contents>
    <dir name="/">
{$files}
    </dir>
  </contents>
  <dependencies>
    <required>
      <php>
        <min>8.1.0</min>
      </php>
      <pearinstaller>
        <min>1.10.0</min>
      </pearinstaller>
    </required>
  </dependencies>
  <providesextension>reverb_rs</providesextension>
  <extsrcrelease/>
</package>

XML;
