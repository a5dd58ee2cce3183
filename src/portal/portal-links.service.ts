import { Injectable, Logger } from '@nestjs/common';
import { accountNotFound } from '../accounts/account.errors.js';
import { DEFAULT_PORTAL_LINK_SECONDS, type CreatePortalLinkDto, type PortalLinkResponseDto } from './dto/portal-link.dto.js';
import { generateLinkToken, generateSessionToken, isLinkTokenShape, tokenDigest } from './portal-secrets.js';
import { PortalSessionRepository } from './portal-session.repository.js';

/** Opening a link: a session token for the cookie, or why there is none. */
export type PortalLinkOpening =
  | { outcome: 'opened'; sessionToken: string; expiresAt: Date }
  | { outcome: 'used' | 'expired' | 'unknown' };

export const PORTAL_SESSION_PATH = '/portal/session';

@Injectable()
export class PortalLinksService {
  private readonly logger = new Logger(PortalLinksService.name);

  constructor(private readonly sessions: PortalSessionRepository) {}

  /** The only answer that carries the link's token: the database keeps its digest. */
  async mint(accountId: string, dto: CreatePortalLinkDto, origin: string): Promise<PortalLinkResponseDto> {
    const readOnly = dto.read_only ?? false;
    const link = generateLinkToken();
    const stored = await this.sessions.createLink(accountId, link.digest, readOnly, dto.expires_in ?? DEFAULT_PORTAL_LINK_SECONDS);
    // The account was deleted between the guard's check and the insert.
    if (!stored) throw accountNotFound(accountId);
    this.logger.log(`minted portal link ${stored.id} for account ${accountId} (${readOnly ? 'read-only' : 'read and manage'}, until ${stored.expiresAt.toISOString()})`);
    return { url: `${origin}${PORTAL_SESSION_PATH}?token=${link.token}`, expires_at: stored.expiresAt.toISOString(), read_only: readOnly };
  }

  /** Spends the link once; the session it opens ends when the link would have. */
  async open(token: string): Promise<PortalLinkOpening> {
    if (!isLinkTokenShape(token)) return { outcome: 'unknown' };
    const session = generateSessionToken();
    const opened = await this.sessions.openLink(tokenDigest(token), session.digest);
    if (opened.outcome !== 'opened') {
      this.logger.warn(`refused a portal link: ${opened.outcome}`);
      return opened;
    }
    this.logger.log(`portal link ${opened.sessionId} of account ${opened.accountId} opened`);
    return { outcome: 'opened', sessionToken: session.token, expiresAt: opened.expiresAt };
  }
}
