// A service entry point reduced to its first step, for the configuration test.
import { loadConfigOrExit, serviceConfigSchema } from './config';

loadConfigOrExit(serviceConfigSchema);
process.stdout.write('configuration accepted\n');
