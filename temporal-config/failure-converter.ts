// Failure messages and stack traces name paths and hosts as often as payloads do:
// with payload encryption on, they travel as an encoded attribute that the payload
// codec seals (the message left in clear reads "Encoded failure"). Loaded by path,
// also inside the workflow bundle, so it imports nothing with side effects.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
