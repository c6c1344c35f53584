--TEST--
reverb_rs declares its classes
--EXTENSIONS--
reverb_rs
--FILE--
<?php
$classes = (new ReflectionExtension('reverb_rs'))->getClassNames();
sort($classes);
echo implode("\n", $classes), "\n";
var_dump(is_subclass_of('ReverbRs\ConfigException', 'Exception'));
?>
--EXPECT--
ReverbRs\ApiException
ReverbRs\Client
ReverbRs\ConfigException
ReverbRs\Server
ReverbRs\ServerException
bool(true)
