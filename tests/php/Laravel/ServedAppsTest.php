<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use PHPUnit\Framework\TestCase;
use ReverbRs\Laravel\Exceptions\InvalidApp;
use ReverbRs\Laravel\Providers\ConfigApplicationProvider;
use ReverbRs\Laravel\ServedApps;
use ReverbRs\Tests\Support\FakeProvider;

/**
 * What `reverb:start` serves from its app provider: the apps it starts with, what a reload
 * pushes to the engine (`setApps`, here a recording closure) and prints, the answers to the
 * engine's lookups, and how faulty entries, refused entries and failing providers are reported
 * without stopping the other apps.
 */
final class ServedAppsTest extends TestCase
{
    private const SOURCE = 'reverb_apps row';

    /** @var list<string> */
    private array $warnings = [];

    /** @var list<list<array<string, mixed>>> what each setApps() call was given */
    private array $pushed = [];

    /** @var list<array{app_id: ?string, key: string, message: string}> what the next setApps() refuses */
    private array $refusals = [];

    public function testTheServerStartsWithEveryEnabledAppInTheProvidersOrder(): void
    {
        $apps = $this->served(new FakeProvider([
            self::app('shop-2'),
            self::app('shop-1'),
            self::app('shop-3', ['enabled' => false]),
        ]));

        $this->assertSame([self::app('shop-2'), self::app('shop-1')], $apps->load());
        $this->assertSame([], $this->warnings);
    }

    public function testAFaultyEntryIsReportedByIdAndTheOthersAreServed(): void
    {
        $apps = $this->served(new FakeProvider([
            self::app('shop-1'),
            new InvalidApp('shop-3', self::SOURCE, 'allowed_origins must be a JSON list'),
            ['key' => 'no-id'],
            'not an app',
            self::app('shop-1', ['secret' => 'other']),
            self::app('shop-4'),
        ]));

        $this->assertSame([self::app('shop-1'), self::app('shop-4')], $apps->load());
        $this->assertSame([
            "App 'shop-3' (reverb_apps row): allowed_origins must be a JSON list",
            'An app (reverb_apps row): app_id is missing (key "no-id")',
            'An app (reverb_apps row): all() gave string instead of an array',
            "App 'shop-1' (reverb_apps row): app_id is listed twice; the first is served",
        ], $this->warnings);
    }

    public function testALaravelReverbApplicationObjectIsReportedWithTheAdapterToUse(): void
    {
        $apps = $this->served(new FakeProvider([new \Laravel\Reverb\Application('a', 'k', 's', 60, 30, ['*'], 10_000)]));

        $this->assertSame([], $apps->load());
        $this->assertStringContainsString('ReverbProviderAdapter', $this->warnings[0]);
    }

    public function testAProviderFailingAtStartLeavesTheAppsItGaveBefore(): void
    {
        $provider = new FakeProvider([self::app('shop-1'), self::app('shop-2'), self::app('shop-3')]);
        $provider->failAfter = 2;

        $this->assertSame([self::app('shop-1'), self::app('shop-2')], $this->served($provider)->load());
        $this->assertSame(
            ['Could not read every app (reverb_apps row): connection lost. Serving the 2 read before it; the next reload tries again.'],
            $this->warnings
        );
    }

    public function testConfigFileEntriesGoAsTheyAreSoThatTheEngineStopsTheStartOnAMistake(): void
    {
        $entries = [['key' => 'no-id', 'secret' => 's'], self::app('shop-1', ['enabled' => false]), self::app('shop-2')];
        $apps = new ServedApps(new ConfigApplicationProvider($entries), 'config/reverb.php', false, fn ($m) => $this->warnings[] = $m);

        $this->assertTrue($apps->fromConfigFile());
        $this->assertSame([['key' => 'no-id', 'secret' => 's'], self::app('shop-2')], $apps->load());
        $this->assertSame([], $this->warnings);
    }

    public function testAnEntryTheConstructorRefusesIsReportedAndLeftOut(): void
    {
        $apps = $this->served(new FakeProvider([
            self::app('shop-1'),
            self::app('off', ['enabled' => false]),
            self::app('shop-2', ['ping_interval' => 0]),
        ]));
        $apps->load();

        $this->assertTrue($apps->refuse(1, 'apps.apps.1.ping_interval must be greater than 0, got 0'));
        $this->assertFalse($apps->refuse(5, 'apps.apps.5.key is required'));

        $this->assertSame([self::app('shop-1')], $apps->serving());
        $this->assertSame(["App 'shop-2' (reverb_apps row): ping_interval must be greater than 0, got 0"], $this->warnings);
    }

    public function testAnEntryRefusedAtStartIsNotOfferedAgainUnchanged(): void
    {
        $provider = new FakeProvider([self::app('shop-1'), self::app('shop-2', ['ping_interval' => 0])]);
        $apps = $this->served($provider);
        $apps->load();
        $apps->refuse(1, 'apps.apps.1.ping_interval must be greater than 0, got 0');

        $this->assertNull($this->reload($apps));
        $provider->apps[1] = self::app('shop-2');

        $this->assertSame('Apps reloaded: 1 added, 0 changed, 0 removed', $this->reload($apps));
        $this->assertSame([[self::app('shop-1'), self::app('shop-2')]], $this->pushed);
    }

    public function testAReloadPushesTheWholeSetAndCountsWhatChanged(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b'), self::app('c'), self::app('d')]);
        $apps = $this->served($provider);
        $apps->load();
        $provider->apps = [
            self::app('a'),
            self::app('b', ['secret' => 'new']),
            self::app('d', ['enabled' => false]),
            self::app('e'),
            self::app('f'),
        ];

        $this->assertSame('Apps reloaded: 2 added, 1 changed, 2 removed', $this->reload($apps));
        $this->assertSame([$provider->apps], $this->pushed);
        $this->assertSame([self::app('a'), self::app('b', ['secret' => 'new']), self::app('e'), self::app('f')], $apps->serving());
    }

    public function testNothingIsPushedWhenNothingChangedWhateverTheOrder(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b')]);
        $apps = $this->served($provider);
        $apps->load();
        $provider->apps = [self::app('b'), self::app('a')];

        $this->assertNull($this->reload($apps));
        $this->assertSame([], $this->pushed);
    }

    public function testAChangeToADisabledAppIsPushedWithoutAStatusLine(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b', ['enabled' => false])]);
        $apps = $this->served($provider);
        $apps->load();
        $provider->apps[1]['secret'] = 'new';

        $this->assertNull($this->reload($apps));
        $this->assertSame([$provider->apps], $this->pushed);
    }

    public function testAnAppEnabledAgainCountsAsAdded(): void
    {
        $provider = new FakeProvider([self::app('a', ['enabled' => false])]);
        $apps = $this->served($provider);
        $this->assertSame([], $apps->load());
        $provider->apps = [self::app('a', ['enabled' => true])];

        $this->assertSame('Apps reloaded: 1 added, 0 changed, 0 removed', $this->reload($apps));
    }

    public function testARowGoneBadKeepsTheRunningVersionAndIsReportedOnce(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b')]);
        $apps = $this->served($provider);
        $apps->load();
        $provider->apps[0] = new InvalidApp('a', self::SOURCE, 'webhooks must be a JSON list');
        $provider->apps[] = self::app('c');

        $this->assertSame('Apps reloaded: 1 added, 0 changed, 0 removed', $this->reload($apps));
        $this->assertSame([[self::app('a'), self::app('b'), self::app('c')]], $this->pushed);
        $this->assertNull($this->reload($apps));
        $this->assertSame(["App 'a' (reverb_apps row): webhooks must be a JSON list"], $this->warnings);
    }

    public function testAProblemFixedAndBackIsReportedAgain(): void
    {
        $bad = new InvalidApp('a', self::SOURCE, 'webhooks must be a JSON list');
        $provider = new FakeProvider([$bad]);
        $apps = $this->served($provider);
        $apps->load();
        $provider->apps = [self::app('a')];
        $this->reload($apps);
        $provider->apps = [$bad];
        $this->reload($apps);

        $this->assertSame([$bad->getMessage(), $bad->getMessage()], $this->warnings);
    }

    public function testAProviderFailingOnReloadChangesNothing(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b')]);
        $apps = $this->served($provider);
        $apps->load();
        $provider->failAfter = 1;

        $this->assertNull($this->reload($apps));
        $this->assertSame([], $this->pushed);
        $this->assertSame([self::app('a'), self::app('b')], $apps->serving());
        $this->assertSame(['Apps not reloaded: could not read them (reverb_apps row): connection lost'], $this->warnings);
    }

    public function testAnEntryTheEngineRefusesKeepsTheRunningVersionOrStaysOut(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b')]);
        $apps = $this->served($provider);
        $apps->load();
        $provider->apps = [self::app('a', ['ping_interval' => 0]), self::app('b'), self::app('c', ['key' => 'k-b'])];
        $this->refusals = [
            [
                'app_id' => 'a',
                'key' => 'apps.apps.0.ping_interval',
                'message' => 'apps.apps.0.ping_interval must be greater than 0, got 0',
            ],
            ['app_id' => 'c', 'key' => 'apps.apps.2.key', 'message' => 'repeats "k-b", which another app already uses'],
        ];

        $this->assertNull($this->reload($apps));
        $this->assertSame([self::app('a'), self::app('b')], $apps->serving());
        $this->assertSame([
            "App 'a' (reverb_apps row): ping_interval must be greater than 0, got 0",
            "App 'c' (reverb_apps row): key repeats \"k-b\", which another app already uses",
        ], $this->warnings);

        $this->assertNull($this->reload($apps));
        $this->assertCount(1, $this->pushed, 'refused entries are not offered again unchanged');

        $provider->apps[0] = self::app('a', ['ping_interval' => 30]);
        $this->assertSame('Apps reloaded: 0 added, 1 changed, 0 removed', $this->reload($apps));
        $this->assertSame([self::app('a', ['ping_interval' => 30]), self::app('b')], end($this->pushed));
    }

    public function testInLookupModeNothingIsReadAtStart(): void
    {
        $provider = new FakeProvider([self::app('a')]);
        $apps = $this->served($provider, onDemand: true);

        $this->assertSame([], $apps->load());
        $this->assertSame([], $provider->calls);
    }

    public function testALookupIsAnsweredWithTheProvidersApp(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b')]);
        $apps = $this->served($provider, onDemand: true);
        $answers = [];
        $answer = function (int $lookup, ?array $app) use (&$answers): ?string {
            $answers[] = [$lookup, $app];
            return null;
        };

        $apps->answer(['type' => 'app_lookup', 'lookup' => 7, 'by' => 'key', 'value' => 'key-b'], $answer);
        $apps->answer(['type' => 'app_lookup', 'lookup' => 8, 'by' => 'id', 'value' => 'a'], $answer);
        $apps->answer(['type' => 'app_lookup', 'lookup' => 9, 'by' => 'key', 'value' => 'nobody'], $answer);

        $this->assertSame([[7, self::app('b')], [8, self::app('a')], [9, null]], $answers);
        $this->assertSame(['findByKey key-b', 'findById a', 'findByKey nobody'], $provider->calls);
        $this->assertSame([self::app('b'), self::app('a')], $apps->serving());
    }

    public function testAnUnreadableAppIsAnsweredAsUnknownAndReported(): void
    {
        $apps = $this->served(new FakeProvider([new InvalidApp('a', self::SOURCE, 'options must be a JSON object')]), onDemand: true);
        $answers = [];

        $apps->answer(['lookup' => 1, 'by' => 'id', 'value' => 'a'], function (int $lookup, ?array $app) use (&$answers) {
            $answers[] = [$lookup, $app];
            return null;
        });

        $this->assertSame([[1, null]], $answers);
        $this->assertSame(["App 'a' (reverb_apps row): options must be a JSON object"], $this->warnings);
    }

    public function testALookupTheProviderFailsOnIsLeftUnanswered(): void
    {
        $provider = new FakeProvider([self::app('a')]);
        $provider->lookupsFail = true;
        $apps = $this->served($provider, onDemand: true);
        $answered = false;

        $apps->answer(['lookup' => 1, 'by' => 'key', 'value' => 'key-a'], function () use (&$answered) {
            $answered = true;
            return null;
        });

        $this->assertFalse($answered);
        $this->assertSame(["Could not look up the app with key 'key-a' (reverb_apps row): database is away"], $this->warnings);
    }

    public function testAnAnswerTheEngineRefusesIsReportedAndNotServed(): void
    {
        $apps = $this->served(new FakeProvider([self::app('a', ['ping_interval' => 0])]), onDemand: true);

        $refused = fn () => 'apps.apps.0.ping_interval must be greater than 0, got 0';
        $apps->answer(['lookup' => 1, 'by' => 'key', 'value' => 'key-a'], $refused);

        $this->assertSame([], $apps->serving());
        $this->assertSame(["App 'a' (reverb_apps row): ping_interval must be greater than 0, got 0"], $this->warnings);
    }

    public function testALookupModeReloadReadsOnlyTheAnsweredAppsById(): void
    {
        $provider = new FakeProvider([self::app('a'), self::app('b'), self::app('c')]);
        $apps = $this->served($provider, onDemand: true);
        foreach (['key-a', 'key-b'] as $index => $key) {
            $apps->answer(['lookup' => $index, 'by' => 'key', 'value' => $key], fn () => null);
        }
        $provider->calls = [];
        $provider->apps = [self::app('a', ['secret' => 'new']), self::app('c')];

        $this->assertSame('Apps reloaded: 0 added, 1 changed, 1 removed', $this->reload($apps));
        $this->assertSame(['findById a', 'findById b'], $provider->calls);
        $this->assertSame([[self::app('a', ['secret' => 'new'])]], $this->pushed);
    }

    public function testALookupModeReloadKeepsEverythingWhenTheProviderFails(): void
    {
        $provider = new FakeProvider([self::app('a')]);
        $apps = $this->served($provider, onDemand: true);
        $apps->answer(['lookup' => 1, 'by' => 'key', 'value' => 'key-a'], fn () => null);
        $provider->lookupsFail = true;

        $this->assertNull($this->reload($apps));
        $this->assertSame([], $this->pushed);
        $this->assertSame([self::app('a')], $apps->serving());
        $this->assertSame(['Apps not reloaded: could not read them (reverb_apps row): database is away'], $this->warnings);
    }

    /** An app entry with `$with` over a plain one. */
    private static function app(string $id, array $with = []): array
    {
        return array_replace(['app_id' => $id, 'key' => "key-{$id}", 'secret' => "secret-{$id}"], $with);
    }

    private function served(FakeProvider $provider, bool $onDemand = false): ServedApps
    {
        return new ServedApps($provider, self::SOURCE, $onDemand, function (string $message): void {
            $this->warnings[] = $message;
        });
    }

    /** A reload with a setApps() that records what it is given and refuses `$this->refusals`. */
    private function reload(ServedApps $apps): ?string
    {
        return $apps->reload(function (array $entries): array {
            $this->pushed[] = $entries;
            $refusals = $this->refusals;
            $this->refusals = [];
            return $refusals;
        });
    }
}
