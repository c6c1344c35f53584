<?php

namespace App\Models;

use Illuminate\Auth\GenericUser;
use Illuminate\Contracts\Support\Arrayable;
use JsonSerializable;

/**
 * A user without a database: who you are is whatever name you signed in with, kept in the
 * session. The id is derived from the name, so the same name is the same user in every tab.
 */
class User extends GenericUser implements Arrayable, JsonSerializable
{
    public static function named(string $name): self
    {
        $name = trim($name);

        return new self(['id' => crc32(mb_strtolower($name)), 'name' => $name]);
    }

    public static function isValidName(string $name): bool
    {
        $name = trim($name);

        return $name !== '' && mb_strlen($name) <= 40 && ! preg_match('/[\x00-\x1F\x7F]/u', $name);
    }

    public function toArray(): array
    {
        return ['id' => $this->attributes['id'], 'name' => $this->attributes['name']];
    }

    public function jsonSerialize(): mixed
    {
        return $this->toArray();
    }
}
