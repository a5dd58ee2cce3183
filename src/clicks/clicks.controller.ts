import { Body, Controller, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { Authenticated } from '../common/route-access.decorator.js';
import type { Response } from 'express';
import { ClicksService } from './clicks.service.js';
import { ClickResponseDto, RecordClickDto } from './dto/click.dto.js';

@ApiTags('clicks')
@Authenticated()
@Controller('v1/clicks')
@ApiErrors(HttpStatus.PAYLOAD_TOO_LARGE)
export class ClicksController {
  constructor(private readonly clicks: ClicksService) {}

  /** 201 when the uid is new, 200 when the call merged into an existing click. */
  @Post()
  async record(@Body() dto: RecordClickDto, @Res({ passthrough: true }) response: Response): Promise<ClickResponseDto> {
    const click = await this.clicks.record(dto);
    response.status(click.created ? 201 : 200);
    return click;
  }
}
