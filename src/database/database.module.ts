import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions, type DatabaseConnectionOptions } from './data-source-options.js';
import { TenantDatabase } from './tenant-database.js';

@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseConnectionOptions): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [TypeOrmModule.forRoot(dataSourceOptions(options))],
      providers: [TenantDatabase],
      exports: [TenantDatabase],
    };
  }
}
