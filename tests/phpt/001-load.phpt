--TEST--
reverb_rs loads and reports its version
--EXTENSIONS--
reverb_rs
--FILE--
<?php
var_dump(extension_loaded('reverb_rs'));
var_dump((bool) preg_match('/^\d+\.\d+\.\d+/', phpversion('reverb_rs')));
?>
--EXPECT--
bool(true)
bool(true)
