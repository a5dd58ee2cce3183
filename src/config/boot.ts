import { ConfigError, loadConfig, type AppConfig, type LoadConfigOptions } from './app-config.js';

/** Parses the environment or stops the process with every problem listed. */
export function loadConfigOrExit(options: LoadConfigOptions): AppConfig {
  try {
    return loadConfig(process.env, options);
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
