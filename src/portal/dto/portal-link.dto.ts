import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { IsOmittable } from '../../destinations/dto/destination-validators.js';

export const MIN_PORTAL_LINK_SECONDS = 3_600;
export const MAX_PORTAL_LINK_SECONDS = 604_800;
export const DEFAULT_PORTAL_LINK_SECONDS = MIN_PORTAL_LINK_SECONDS;

export class CreatePortalLinkDto {
  @ApiPropertyOptional({ minimum: MIN_PORTAL_LINK_SECONDS, maximum: MAX_PORTAL_LINK_SECONDS, default: DEFAULT_PORTAL_LINK_SECONDS, description: 'seconds until the link, and the session it opens, end (1 hour to 7 days)' })
  @IsOmittable() @IsInt() @Min(MIN_PORTAL_LINK_SECONDS) @Max(MAX_PORTAL_LINK_SECONDS)
  expires_in?: number;

  @ApiPropertyOptional({ default: false, description: 'true: the session may read everything of the account and change nothing (scope read); false: read and manage' })
  @IsOmittable() @IsBoolean()
  read_only?: boolean;
}

export class PortalLinkResponseDto {
  @ApiProperty({ example: 'https://webhooks.example.com/portal/session?token=xtpl_…', description: 'opens once: the first opening exchanges its token for a session cookie, every later one is refused' })
  url: string;
  @ApiProperty({ description: 'when the link and its session end' })
  expires_at: string;
  @ApiProperty() read_only: boolean;
}

/** What the portal page learns about its own session. */
export class PortalSessionResponseDto {
  @ApiProperty() account_id: string;
  @ApiProperty() read_only: boolean;
  @ApiProperty() expires_at: string;
  @ApiProperty({ description: 'send it as X-CSRF-Token on every write' })
  csrf_token: string;
}
