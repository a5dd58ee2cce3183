import { Controller, Get, Header, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthError } from '../common/auth-error.js';
import { PublicRoute } from '../common/route-access.decorator.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { PortalSessionResponseDto } from './dto/portal-link.dto.js';
import { PortalAssets } from './portal-assets.js';
import { sessionSetCookie } from './portal-cookie.js';
import { PortalLinksService } from './portal-links.service.js';
import { refusedLinkPage } from './portal-notice-page.js';
import { PortalError, PortalErrorCode } from './portal.errors.js';
import { PortalSessionAuthenticator } from './portal-session-authenticator.js';
import { themeQuery } from './portal-theme.js';

/**
 * The portal's own pages: public, because the page is the same for everyone and holds no data;
 * every piece of account data it shows comes from the /v1 API, authorised by the session cookie
 * exactly like an account key. The security headers (CSP with frame-ancestors) are set for all
 * of /portal in http-app.ts.
 */
@ApiExcludeController()
@PublicRoute()
@Controller('portal')
export class PortalPagesController {
  constructor(
    private readonly assets: PortalAssets,
    private readonly links: PortalLinksService,
    private readonly sessions: PortalSessionAuthenticator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-cache')
  page(@Res() response: Response): void {
    if (!this.assets.page) throw new PortalError(PortalErrorCode.NotBuilt, 'the customer portal is not built: run npm run build');
    response.type('html').send(this.assets.page);
  }

  @Get('assets/:name')
  @Header('Cache-Control', 'public, max-age=31536000, immutable')
  asset(@Param('name') name: string, @Res() response: Response): void {
    const asset = this.assets.asset(name);
    if (!asset) throw new PortalError(PortalErrorCode.AssetNotFound, 'no such portal asset');
    response.type(asset.contentType).send(asset.body);
  }

  /**
   * Opens a portal link: the one-time token becomes the session cookie, and the browser goes on
   * to the page (with the theme, if valid). The URL it lands on holds no token, and helmet's
   * Referrer-Policy: no-referrer keeps this one out of any request the page makes.
   */
  @Get('session')
  @Header('Cache-Control', 'no-store')
  async open(@Query('token') token: unknown, @Query('theme') theme: unknown, @Req() request: Request, @Res() response: Response): Promise<void> {
    const opened = await this.links.open(typeof token === 'string' ? token : '');
    if (opened.outcome !== 'opened') {
      const { status, html } = refusedLinkPage(opened.outcome, this.assets.stylesheet);
      response.status(status).type('html').send(html);
      return;
    }
    response.setHeader('Set-Cookie', sessionSetCookie(opened.sessionToken, opened.expiresAt, request, this.config.portal));
    response.redirect(303, `/portal${themeQuery(theme)}`);
  }

  /** Who the page is, and the CSRF token its writes send; only a same-origin script can read it. */
  @Get('api/session')
  @Header('Cache-Control', 'no-store')
  async session(@Req() request: Request): Promise<PortalSessionResponseDto> {
    const view = await this.sessions.describe(request);
    if (!view) throw new AuthError('missing_credentials', 'no portal session: open a portal link');
    return {
      account_id: view.session.account.id,
      read_only: view.session.readOnly,
      expires_at: view.session.expiresAt.toISOString(),
      csrf_token: view.csrfToken,
    };
  }
}
