// The metering service. Its aggregates arrive with its own issue; the platform packages it builds on
// (@park/eventstore, @park/messaging, @park/contracts) are ready for it.
export const SERVICE_NAME = 'metering';
