// Every workflow kind the chaos run covers, in the order the table lists them.
import type { Scenario } from '../scenario';
import { indexScenario } from './index';
import { onboardingScenario } from './onboarding';
import { remediationScenario } from './remediation';
import { sanitizeScenario } from './sanitize';
import { scanScenario } from './scan';
import { tieringScenario } from './tiering';

export const SCENARIOS: Scenario[] = [scanScenario, tieringScenario, sanitizeScenario, indexScenario, remediationScenario, onboardingScenario];
