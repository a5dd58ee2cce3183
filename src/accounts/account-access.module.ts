import { Module } from '@nestjs/common';
import { AccountKeyAuthenticator } from './account-key-authenticator.js';
import { AccountRepository } from './account.repository.js';
import { ApiKeyRepository } from './api-key.repository.js';

/**
 * What the global guards need to identify a key and resolve its account, without the accounts
 * routes (and their Temporal dependency) around them.
 */
@Module({
  providers: [AccountRepository, ApiKeyRepository, AccountKeyAuthenticator],
  exports: [AccountRepository, ApiKeyRepository, AccountKeyAuthenticator],
})
export class AccountAccessModule {}
