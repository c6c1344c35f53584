<?php

/**
 * The table of the `database` app provider (`apps.database.table`, on
 * `apps.database.connection`): a column for each key of a config/reverb.php app entry. Null
 * columns take the server's defaults; JSON columns hold what the entry's arrays hold.
 */

declare(strict_types=1);

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

return new class extends Migration
{
    /** The connection `apps.database.connection` names, null for the default one. */
    public function getConnection(): ?string
    {
        return config('reverb.apps.database.connection');
    }

    /** Creates the table. */
    public function up(): void
    {
        Schema::connection($this->getConnection())->create($this->table(), function (Blueprint $table): void {
            $table->string('id')->primary();
            $table->string('key')->unique();
            $table->string('secret');
            $table->json('allowed_origins')->nullable();
            $table->unsignedInteger('ping_interval')->nullable();
            $table->unsignedInteger('activity_timeout')->nullable();
            $table->unsignedInteger('max_connections')->nullable();
            $table->unsignedInteger('max_message_size')->nullable();
            $table->string('accept_client_events_from', 16)->nullable();
            $table->json('rate_limiting')->nullable();
            $table->unsignedInteger('max_client_events_per_second')->nullable();
            $table->unsignedInteger('max_channels_per_connection')->nullable();
            $table->unsignedInteger('max_presence_members')->nullable();
            $table->unsignedInteger('max_presence_user_info_bytes')->nullable();
            $table->unsignedInteger('max_channels_per_event')->nullable();
            $table->unsignedInteger('max_events_per_batch')->nullable();
            $table->unsignedInteger('cache_ttl')->nullable();
            $table->json('webhooks')->nullable();
            $table->boolean('subscription_count')->default(false);
            $table->json('options')->nullable();
            $table->boolean('enabled')->default(true);
            $table->timestamps();
        });
    }

    /** Drops the table. */
    public function down(): void
    {
        Schema::connection($this->getConnection())->dropIfExists($this->table());
    }

    private function table(): string
    {
        return (string) config('reverb.apps.database.table', 'reverb_apps');
    }
};
