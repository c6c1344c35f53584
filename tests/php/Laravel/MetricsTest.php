<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Config\Repository;
use Illuminate\Console\OutputStyle;
use Illuminate\Container\Container;
use PHPUnit\Framework\TestCase;
use ReflectionMethod;
use ReverbRs\Laravel\ApplicationManager;
use ReverbRs\Laravel\Console\StartCommand;
use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Output\BufferedOutput;

/**
 * The `metrics` block in the Laravel package: the published config and its variables, and
 * `reverb:start`'s completion of a config/reverb.php published before the block existed.
 */
final class MetricsTest extends TestCase
{
    private const VARIABLES = ['REVERB_METRICS_ENABLED', 'REVERB_METRICS_HOST', 'REVERB_METRICS_PORT'];

    protected function setUp(): void
    {
        Container::setInstance(new Container());
        $this->setEnvironment([]);
    }

    protected function tearDown(): void
    {
        Container::setInstance(null);
        $this->setEnvironment([]);
    }

    public function testThePublishedConfigHasMetricsOffOnTheLoopbackPort9601(): void
    {
        $config = require dirname(__DIR__, 3) . '/php/config/reverb.php';

        $this->assertSame(
            ['enabled' => false, 'host' => '127.0.0.1', 'port' => 9601],
            $config['servers']['reverb']['metrics']
        );
    }

    public function testThePublishedConfigTakesTheVariables(): void
    {
        $this->setEnvironment([
            'REVERB_METRICS_ENABLED' => 'true',
            'REVERB_METRICS_HOST' => '0.0.0.0',
            'REVERB_METRICS_PORT' => '9700',
        ]);

        $config = require dirname(__DIR__, 3) . '/php/config/reverb.php';

        $this->assertSame(
            ['enabled' => true, 'host' => '0.0.0.0', 'port' => '9700'],
            $config['servers']['reverb']['metrics']
        );
    }

    public function testAnOlderConfigIsCompletedFromTheVariables(): void
    {
        $this->setEnvironment(['REVERB_METRICS_ENABLED' => 'true', 'REVERB_METRICS_PORT' => '9700']);

        $config = $this->serverConfig(self::olderConfig());

        $this->assertSame(
            ['enabled' => true, 'host' => '127.0.0.1', 'port' => '9700'],
            $config['servers']['reverb']['metrics']
        );
    }

    public function testAnOlderConfigWithoutTheVariablesHasMetricsOff(): void
    {
        $config = $this->serverConfig(self::olderConfig());

        $this->assertFalse($config['servers']['reverb']['metrics']['enabled']);
    }

    public function testWhatTheConfigSaysWinsOverTheVariables(): void
    {
        $this->setEnvironment(['REVERB_METRICS_ENABLED' => 'true', 'REVERB_METRICS_PORT' => '9700']);
        $older = self::olderConfig();
        $older['servers']['reverb']['metrics'] = ['enabled' => false];

        $config = $this->serverConfig($older);

        $this->assertSame(['enabled' => false], $config['servers']['reverb']['metrics']);
    }

    /** A config/reverb.php as laravel/reverb publishes it, without a `metrics` block. */
    private static function olderConfig(): array
    {
        return [
            'default' => 'reverb',
            'servers' => ['reverb' => ['host' => '0.0.0.0', 'port' => 8080]],
            'apps' => ['provider' => 'config', 'apps' => [
                ['key' => 'key-1', 'secret' => 'secret', 'app_id' => 'app-1'],
            ]],
        ];
    }

    /** Sets the given variables the way a `.env` file does, and unsets the others. */
    private function setEnvironment(array $variables): void
    {
        foreach (self::VARIABLES as $name) {
            putenv($name);
            unset($_ENV[$name], $_SERVER[$name]);
            if (array_key_exists($name, $variables)) {
                $_ENV[$name] = $_SERVER[$name] = $variables[$name];
            }
        }
    }

    /** The config `reverb:start` would build the server from, out of `$reverb`. */
    private function serverConfig(array $reverb): array
    {
        $app = Container::getInstance();
        $app->instance('config', new Repository(['reverb' => $reverb]));
        $app->instance(ApplicationManager::class, new ApplicationManager($app));
        $command = new StartCommand();
        $command->setLaravel($app);
        $input = new ArrayInput([], $command->getDefinition());
        $command->setInput($input);
        $command->setOutput(new OutputStyle($input, new BufferedOutput()));

        return (new ReflectionMethod($command, 'serverConfig'))->invoke($command);
    }
}
