import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { IsString } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { createValidationPipe, MAX_INPUT_DEPTH } from './validation.js';

class NameDto {
  @IsString() name: string;
}

const asBody = { type: 'body', metatype: NameDto } as const;

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = { name: value };
  return value;
}

describe('the validation pipe', () => {
  const pipe = createValidationPipe();

  it('refuses input nested thousands of levels deep with a 400 instead of overflowing the stack', async () => {
    await expect(pipe.transform(nested(20_000), asBody)).rejects.toThrow(new BadRequestException(`request input is nested deeper than ${MAX_INPUT_DEPTH} levels`));
  });

  it.each(['constructor', '__proto__', 'prototype', 'hasOwnProperty'])('refuses a key named %s instead of dropping it silently', async (key) => {
    const body = JSON.parse(`{"name":"n","headers":{"${key}":"x"}}`);
    await expect(pipe.transform(body, asBody)).rejects.toThrow(`property headers.${key} should not exist`);
  });

  it('still transforms and validates ordinary input', async () => {
    await expect(pipe.transform({ name: 'n' }, asBody)).resolves.toBeInstanceOf(NameDto);
  });
});
