import { rootLogger } from '../logging/root-logger.js';
import { ConfigError, loadConfig, type AppConfig, type LoadConfigOptions } from './app-config.js';

/**
 * Parses the environment (the process's own unless given) or stops the process with every
 * problem listed; the root logger takes the validated LOG_LEVEL.
 */
export function loadConfigOrExit({ env = process.env, ...options }: LoadConfigOptions & { env?: Record<string, string | undefined> }): AppConfig {
  try {
    const config = loadConfig(env, options);
    rootLogger.level = config.logLevel;
    return config;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

export function warnAboutAllowedCidrs(config: AppConfig, warn: (message: string) => void): void {
  if (config.allowedCidrs.length > 0) {
    warn(
      `WEBHOOK_ALLOWED_CIDRS is set: destinations may point at ${config.allowedCidrs.map(([address, bits]) => `${address.toString()}/${bits}`).join(', ')}. Never set it in production.`,
    );
  }
}
