// Settings for the embedded Temporal dev server and the client connection.
export interface TemporalSettings {
  address: string;
  namespace: string;
  uiPort: number;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  return {
    address: env.TEMPORAL_ADDRESS ?? `127.0.0.1:${env.STRATA_TEMPORAL_PORT ?? '7233'}`,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    uiPort: Number(env.STRATA_TEMPORAL_UI_PORT ?? '8233'),
  };
}

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
