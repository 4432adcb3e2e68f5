// The CI-sized subset (`--ci`, used by test/e2e/chaos.test.ts): each workflow kind
// meets one fault, the five faults all appear.
import { FAULTS, type Fault } from './faults';
import type { Scenario } from './scenario';
import { indexScenario } from './scenarios/index';
import { onboardingScenario } from './scenarios/onboarding';
import { remediationScenario } from './scenarios/remediation';
import { sanitizeScenario } from './scenarios/sanitize';
import { scanScenario } from './scenarios/scan';
import { tieringScenario } from './scenarios/tiering';

const fault = (name: string): Fault => FAULTS.find((candidate) => candidate.name.includes(name))!;

export const CI_PAIRS: [Scenario, Fault][] = [
  [scanScenario, fault('central worker')],
  [tieringScenario, fault('host worker')],
  [sanitizeScenario, fault('Temporal')],
  [indexScenario, fault('Postgres')],
  [remediationScenario, fault('host worker')],
  [onboardingScenario, fault('Vault')],
];
