import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, Length } from 'class-validator';
import { API_SCOPES, type ApiScope } from '../../common/api-principal.js';
import { IsNotNull, IsOmittable, IsPlainText } from '../../destinations/dto/destination-validators.js';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ingest from the tracker', maxLength: 200 })
  @IsNotNull() @IsString() @Length(1, 200) @IsPlainText()
  name: string;

  @ApiPropertyOptional({ enum: API_SCOPES, isArray: true, default: [...API_SCOPES], description: 'ingest: clicks and events; read: every GET; manage: destination changes and delivery actions' })
  @IsOmittable() @IsArray() @ArrayNotEmpty({ message: 'scopes must name at least one scope' }) @ArrayUnique({ message: 'scopes must not repeat a scope' })
  @IsIn(API_SCOPES, { each: true, message: `each of scopes must be one of: ${API_SCOPES.join(', ')}` })
  scopes?: ApiScope[];
}

export class ApiKeyResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: API_SCOPES, isArray: true }) scopes: ApiScope[];
  @ApiProperty({ example: 'xtk_Xq3vT9aB', description: 'the first 12 characters of the key, to recognise it; the key itself is shown only when created' })
  prefix: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String, description: 'to the minute: uses within a minute of the last recorded one are not written' })
  last_used_at: string | null;
}

export class CreatedApiKeyResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'xtk_Xq3vT9aBnW2cLr8YpK4sD7fGh1jM6eQzU0iO5tRyV3b', description: 'shown only here: store it now; the service keeps only its digest' })
  key: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: API_SCOPES, isArray: true }) scopes: ApiScope[];
  @ApiProperty({ example: 'xtk_Xq3vT9aB' }) prefix: string;
  @ApiProperty() created_at: string;
}
