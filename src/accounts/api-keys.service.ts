import { Injectable, Logger } from '@nestjs/common';
import { API_SCOPES } from '../common/api-principal.js';
import { AccountError, AccountErrorCode, accountNotFound } from './account.errors.js';
import { generateAccountKey } from './api-key-material.js';
import { ApiKeyRepository, type ApiKey } from './api-key.repository.js';
import type { ApiKeyResponseDto, CreateApiKeyDto, CreatedApiKeyResponseDto } from './dto/api-key.dto.js';

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(private readonly keys: ApiKeyRepository) {}

  /** The only answer that carries the key: the database keeps its digest and prefix. */
  async create(accountId: string, dto: CreateApiKeyDto): Promise<CreatedApiKeyResponseDto> {
    // Stored in one order whatever the request's, so listings compare equal.
    const scopes = API_SCOPES.filter((scope) => (dto.scopes ?? API_SCOPES).includes(scope));
    const material = generateAccountKey();
    const stored = await this.keys.create(accountId, { name: dto.name, scopes, prefix: material.prefix, digest: material.digest });
    // The account was deleted between the guard's check and the insert.
    if (!stored) throw accountNotFound(accountId);
    this.logger.log(`created API key ${stored.id} for account ${accountId} with scopes ${scopes.join(',')}`);
    return { id: stored.id, key: material.key, name: stored.name, scopes: stored.scopes, prefix: stored.prefix, created_at: stored.createdAt.toISOString() };
  }

  async list(accountId: string): Promise<ApiKeyResponseDto[]> {
    return (await this.keys.listForAccount(accountId)).map(toResponse);
  }

  async revoke(accountId: string, id: string): Promise<void> {
    if (!(await this.keys.revoke(accountId, id))) throw new AccountError(AccountErrorCode.ApiKeyNotFound, `API key ${id} not found`);
    this.logger.log(`revoked API key ${id} of account ${accountId}`);
  }
}

function toResponse(key: ApiKey): ApiKeyResponseDto {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    prefix: key.prefix,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
  };
}
