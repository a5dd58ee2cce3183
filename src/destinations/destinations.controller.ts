import { BadRequestException, Body, HttpStatus, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { Authenticated } from '../common/route-access.decorator.js';
import { CreateDestinationDto, UpdateDestinationDto } from './dto/destination-request.dto.js';
import { CreatedDestinationResponseDto, DestinationResponseDto, RotatedSecretResponseDto } from './dto/destination-response.dto.js';
import { DestinationsService } from './destinations.service.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException('id must be a UUID') });

@ApiTags('destinations')
@Authenticated()
@Controller('v1/destinations')
@ApiErrors(HttpStatus.NOT_FOUND, HttpStatus.CONFLICT, HttpStatus.PAYLOAD_TOO_LARGE)
export class DestinationsController {
  constructor(private readonly destinations: DestinationsService) {}

  @Post()
  create(@Body() dto: CreateDestinationDto): Promise<CreatedDestinationResponseDto> {
    return this.destinations.create(dto);
  }

  @Get()
  list(): Promise<DestinationResponseDto[]> {
    return this.destinations.list();
  }

  @Get(':id')
  get(@Param('id', uuid) id: string): Promise<DestinationResponseDto> {
    return this.destinations.get(id);
  }

  @Patch(':id')
  update(@Param('id', uuid) id: string, @Body() dto: UpdateDestinationDto): Promise<DestinationResponseDto> {
    return this.destinations.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id', uuid) id: string): Promise<void> {
    return this.destinations.remove(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotateSecret(@Param('id', uuid) id: string): Promise<RotatedSecretResponseDto> {
    return this.destinations.rotateSecret(id);
  }
}
