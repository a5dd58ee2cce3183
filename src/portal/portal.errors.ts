import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';

export enum PortalErrorCode {
  /** dist/portal is missing: the process runs from a build without the portal (`npm run build` makes it). */
  NotBuilt = 'PORTAL_NOT_BUILT',
  AssetNotFound = 'PORTAL_ASSET_NOT_FOUND',
}

export class PortalError extends DomainError<PortalErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case PortalErrorCode.NotBuilt:
        return HttpStatus.SERVICE_UNAVAILABLE;
      case PortalErrorCode.AssetNotFound:
        return HttpStatus.NOT_FOUND;
    }
  }
}
