// The command tree (commander). Each action resolves the global options into a Context, runs its
// command function and prints the View the function returns.
import { Command, CommanderError, Option } from 'commander';
import { ROLES } from '@park/service-kit';
import {
  configurePark,
  getEnterprise,
  getMeter,
  getPark,
  listEnterprises,
  listMeters,
  registerEnterprise,
  registerMeter,
} from './commands/registry';
import { cbam, footprint, importCertificates, retireCertificates } from './commands/carbon';
import { listDlq, replayDlq } from './commands/dlq';
import { importReadings } from './commands/import';
import { plan } from './commands/dispatch';
import { kpis, listProjections, rebuildProjection } from './commands/reporting';
import { series } from './commands/series';
import { tokenCommand } from './commands/token';
import {
  ADDRESS_ENV,
  Context,
  DEFAULT_ADDRESSES,
  DEFAULT_KAFKA,
  DEFAULT_METERING_HTTP,
  DEFAULT_TIME_ZONE,
  DEFAULT_TIMEOUT_S,
  resolveSettings,
  SERVICES,
  type GlobalOptions,
  type Io,
} from './context';
import { choicesOf } from './enums';
import { errorMessage, EXIT } from './errors';
import { OUTPUT_FORMATS, type View } from './output';

type Options = Record<string, string | boolean | undefined>;
type Handler = (ctx: Context, args: string[], options: Options) => Promise<View>;

const ENVIRONMENT_HELP = `
Environment (options win):
  PARK_METERING_ADDR, PARK_CARBON_ADDR, PARK_DISPATCH_ADDR, PARK_REPORTING_ADDR   gRPC addresses
  PARK_METERING_HTTP   metering's HTTP base URL (import)
  PARK_TOKEN           bearer token; without one, JWT_SECRET (>= 32 characters, development
                       only; else npm start's .work/dev-jwt-secret) signs a 10-minute
                       operator token (JWT_ISSUER, JWT_AUDIENCE)
  PARK_TLS=true        TLS to the gRPC services (system CAs; NODE_EXTRA_CA_CERTS adds one)
  KAFKA_BROKERS        brokers for dlq (KAFKA_SSL, KAFKA_SASL_MECHANISM/USERNAME/PASSWORD)
  PARK_TIME_ZONE       zone of date arguments (${DEFAULT_TIME_ZONE})
  PARKCTL_DEBUG=1      stack traces of unexpected errors

Dates: --from/--to take an RFC 3339 instant (2025-06-01T00:00:00Z), a park-local date
(2025-06-01) or month (2025-06) meaning its first midnight; --to is excluded.
Exit codes: 0 done, 1 a call failed, 2 usage, 3 import --strict with rejected or held rows.`;

/** Builds the program; `state.exitCode` is set by the action that ran. */
export function createProgram(io: Io, state: { exitCode: number }): Command {
  const run =
    (handler: Handler) =>
    async (...received: unknown[]): Promise<void> => {
      const command = received[received.length - 1] as Command;
      const options = received[received.length - 2] as Options;
      const args = received.slice(0, -2) as string[];
      const ctx = new Context(
        resolveSettings(command.optsWithGlobals<GlobalOptions>(), io.env),
        io,
      );
      try {
        const view = await handler(ctx, args, options);
        ctx.print(view);
        state.exitCode = view.exitCode ?? EXIT.ok;
      } finally {
        ctx.close();
      }
    };
  const str = (value: string | boolean | undefined) => value as string | undefined;

  const program = new Command('parkctl')
    .description("The zero-carbon park operators' command line")
    .addOption(
      new Option('-o, --output <format>', 'table, json (proto3 JSON) or csv').choices(
        OUTPUT_FORMATS,
      ),
    )
    .option('--token <jwt>', 'bearer token (env PARK_TOKEN)')
    .option('--tls', 'TLS to the gRPC services (env PARK_TLS)')
    .option(
      `--http <url>`,
      `metering HTTP base URL (env PARK_METERING_HTTP, ${DEFAULT_METERING_HTTP})`,
    )
    .option(
      '--kafka <brokers>',
      `Kafka brokers, comma-separated (env KAFKA_BROKERS, ${DEFAULT_KAFKA})`,
    )
    .option('--timeout <seconds>', `deadline of each call (${DEFAULT_TIMEOUT_S})`)
    .option(
      '--tz <zone>',
      `time zone of date arguments (env PARK_TIME_ZONE, ${DEFAULT_TIME_ZONE})`,
    );
  for (const service of SERVICES) {
    program.option(
      `--${service} <host:port>`,
      `${service} gRPC address (env ${ADDRESS_ENV[service]}, ${DEFAULT_ADDRESSES[service]})`,
    );
  }
  program
    .showHelpAfterError('(parkctl --help lists the commands; parkctl <command> --help its options)')
    .addHelpText('after', ENVIRONMENT_HELP)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  program
    .command('token')
    .description('print a development bearer token signed with JWT_SECRET')
    .addOption(new Option('--role <role>', 'the role').choices(ROLES).default('operator'))
    .option('--enterprise <id>', 'the enterprise of an enterprise token')
    .option('--subject <name>', 'the subject (dev-<role>)')
    .option('--ttl <seconds>', 'lifetime in seconds (86400)')
    .action(run(async (ctx, _args, o) => tokenCommand(o, ctx.io.env)));

  const parks = program.command('parks').description("the park's calendar and location (metering)");
  parks
    .command('get <park>')
    .description('show a park')
    .action(run(async (ctx, [parkId]) => getPark(ctx, parkId!)));
  parks
    .command('configure <park>')
    .description('create or update a park')
    .requiredOption('--name <name>', 'display name')
    .option('--time-zone <zone>', 'IANA time zone (--tz)')
    .requiredOption('--latitude <deg>', 'latitude, decimal degrees')
    .requiredOption('--longitude <deg>', 'longitude, decimal degrees')
    .requiredOption(
      '--grid-region <region>',
      'grid region of the location-based factor, e.g. northeast_china',
    )
    .option('--size-band <band>', `${choicesOf('sizeBand').join(', ')} (below_200k_tce)`)
    .action(
      run(async (ctx, [parkId], o) =>
        configurePark(ctx, parkId!, {
          name: str(o.name),
          timeZone: str(o.timeZone),
          latitude: str(o.latitude),
          longitude: str(o.longitude),
          gridRegion: str(o.gridRegion),
          sizeBand: str(o.sizeBand),
        }),
      ),
    );

  const enterprises = program
    .command('enterprises')
    .description("the park's enterprises (metering)");
  enterprises
    .command('list')
    .description('list enterprises, every page')
    .option('--park <park>', "only this park's")
    .option('--limit <n>', 'at most this many')
    .action(
      run(async (ctx, _args, o) =>
        listEnterprises(ctx, { park: str(o.park), limit: str(o.limit) }),
      ),
    );
  enterprises
    .command('get <enterprise>')
    .description('show an enterprise')
    .action(run(async (ctx, [id]) => getEnterprise(ctx, id!)));
  enterprises
    .command('register <enterprise>')
    .description('register an enterprise in a park')
    .requiredOption('--park <park>', 'its park')
    .requiredOption('--name <name>', 'its name')
    .requiredOption('--credit-code <code>', 'unified social credit code (18 characters)')
    .requiredOption('--industry-code <code>', 'GB/T 4754 industry code, e.g. C3411')
    .option('--exporter', 'exports goods (CBAM)')
    .option('--no-energy-using', 'not counted towards the platform coverage KPI')
    .option('--key-energy-consuming-unit', 'a key energy-consuming unit')
    .action(
      run(async (ctx, [id], o) =>
        registerEnterprise(ctx, id!, {
          park: str(o.park),
          name: str(o.name),
          creditCode: str(o.creditCode),
          industryCode: str(o.industryCode),
          exporter: o.exporter === true,
          energyUsing: o.energyUsing !== false,
          keyEnergyConsumingUnit: o.keyEnergyConsumingUnit === true,
        }),
      ),
    );

  const meters = program.command('meters').description("the park's meters (metering)");
  meters
    .command('list')
    .description('list meters, every page')
    .option('--enterprise <id>', "only this enterprise's")
    .option('--commodity <commodity>', choicesOf('commodity').join(', '))
    .option('--role <role>', choicesOf('meterRole').join(', '))
    .option('--limit <n>', 'at most this many')
    .action(
      run(async (ctx, _args, o) =>
        listMeters(ctx, {
          enterprise: str(o.enterprise),
          commodity: str(o.commodity),
          role: str(o.role),
          limit: str(o.limit),
        }),
      ),
    );
  meters
    .command('get <meter>')
    .description('show a meter')
    .action(run(async (ctx, [id]) => getMeter(ctx, id!)));
  meters
    .command('register <meter>')
    .description('register a meter of an enterprise')
    .requiredOption('--enterprise <id>', 'its enterprise')
    .requiredOption('--commodity <commodity>', choicesOf('commodity').join(', '))
    .requiredOption('--role <role>', choicesOf('meterRole').join(', '))
    .requiredOption('--unit <unit>', 'kWh, MWh, Nm3, GJ, t, m3, % ...')
    .option('--register <type>', 'interval or cumulative (interval)')
    .option('--interval-minutes <n>', 'minutes per interval (15)')
    .option('--rated-power-kw <kw>', 'rated power: values above it are held as spikes')
    .option('--multiplier <factor>', 'CT/PT multiplier')
    .option('--register-maximum <value>', 'rollover value of a cumulative register')
    .option('--steam-enthalpy <gj-per-t>', 'steam meters: GJ per tonne')
    .option('--source-generator <id>', 'green direct line: the generator')
    .option('--source-entity <id>', 'internal transfer: the supplying entity')
    .option('--serial <serial>', "the physical meter's serial number")
    .action(
      run(async (ctx, [id], o) =>
        registerMeter(ctx, id!, {
          enterprise: str(o.enterprise),
          commodity: str(o.commodity),
          role: str(o.role),
          unit: str(o.unit),
          register: str(o.register),
          intervalMinutes: str(o.intervalMinutes),
          ratedPowerKw: str(o.ratedPowerKw),
          multiplier: str(o.multiplier),
          registerMaximum: str(o.registerMaximum),
          steamEnthalpy: str(o.steamEnthalpy),
          sourceGenerator: str(o.sourceGenerator),
          sourceEntity: str(o.sourceEntity),
          serial: str(o.serial),
        }),
      ),
    );

  program
    .command('import <file>')
    .description(
      "upload a readings file to metering's POST /v1/readings:bulk (progress on stderr) and print its report",
    )
    .addOption(
      new Option('--format <format>', 'csv or ndjson (from the extension)').choices([
        'csv',
        'ndjson',
      ]),
    )
    .option('--show-rejections <n>', 'rejected rows listed in the table (10)')
    .option('--strict', 'exit 3 when a row was rejected or held')
    .addHelpText(
      'after',
      '\nCSV: a header row meter_id,interval_start,value,register,unit[,reason] (value for interval\n' +
        'meters, register for cumulative ones; instants in RFC 3339 UTC). NDJSON: the same names.',
    )
    .action(
      run(async (ctx, [file], o) =>
        importReadings(ctx, file!, {
          format: str(o.format),
          showRejections: str(o.showRejections),
          strict: o.strict === true,
        }),
      ),
    );

  program
    .command('series <meter>')
    .description(
      "a meter's values per quarter hour, hour, day or month (days and months in park time)",
    )
    .requiredOption('--from <when>', 'first instant, date or month')
    .requiredOption('--to <when>', 'end (excluded)')
    .option('--resolution <resolution>', `${choicesOf('resolution').join(', ')} (hour)`)
    .action(
      run(async (ctx, [meterId], o) =>
        series(ctx, meterId!, { from: str(o.from), to: str(o.to), resolution: str(o.resolution) }),
      ),
    );

  program
    .command('footprint <enterprise>')
    .description("an enterprise's energy and emissions in a period (carbon)")
    .requiredOption('--from <when>', 'first instant, date or month')
    .requiredOption('--to <when>', 'end (excluded)')
    .action(run(async (ctx, [id], o) => footprint(ctx, id!, { from: str(o.from), to: str(o.to) })));

  const certificates = program
    .command('certificates')
    .description('green electricity certificates (carbon)');
  certificates
    .command('import <enterprise> <file>')
    .description("import an enterprise's certificates from a CSV: serial,vintage,generator_id,mwh")
    .action(run(async (ctx, [id, file]) => importCertificates(ctx, id!, file!)));
  certificates
    .command('retire <enterprise> <serials...>')
    .description('retire certificates for park-local days within one month')
    .requiredOption('--from-date <day>', 'first day, YYYY-MM-DD')
    .option('--to-date <day>', 'last day, inclusive (--from-date)')
    .action(
      run(async (ctx, received, o) => {
        const [id, serials] = received as unknown as [string, string[]];
        return retireCertificates(ctx, id, serials, {
          fromDate: str(o.fromDate),
          toDate: str(o.toDate),
        });
      }),
    );

  program
    .command('cbam <installation>')
    .description("an installation's CBAM data per good; --output csv prints the service's CSV")
    .requiredOption('--from-month <month>', 'first month, YYYY-MM')
    .option('--to-month <month>', 'last month, inclusive (--from-month)')
    .action(
      run(async (ctx, [id], o) =>
        cbam(ctx, id!, { fromMonth: str(o.fromMonth), toMonth: str(o.toMonth) }),
      ),
    );

  program
    .command('plan <park> <day>')
    .description('plan a park-local day, YYYY-MM-DD (dispatch, operator)')
    .option('--latest', "show the day's plan in force instead of planning again")
    .option('--intervals', 'list every interval in the table')
    .action(
      run(async (ctx, [parkId, day], o) =>
        plan(ctx, parkId!, day!, { latest: o.latest === true, intervals: o.intervals === true }),
      ),
    );

  program
    .command('kpis <park>')
    .description("the park's KPIs for a day, month or year (reporting)")
    .option('--granularity <granularity>', `${choicesOf('granularity').join(', ')} (month)`)
    .requiredOption('--period <period>', 'YYYY-MM-DD, YYYY-MM or YYYY in park time')
    .action(
      run(async (ctx, [parkId], o) =>
        kpis(ctx, parkId!, { granularity: str(o.granularity), period: str(o.period) }),
      ),
    );

  const projections = program.command('projections').description("reporting's projections");
  projections
    .command('list')
    .description('versions and rebuild progress')
    .action(run(async (ctx) => listProjections(ctx)));
  projections
    .command('rebuild [name]')
    .description('rebuild one projection (all without a name) from offset 0, then switch')
    .action(run(async (ctx, [name]) => rebuildProjection(ctx, name)));

  const dlq = program.command('dlq').description('dead letters on Kafka (<topic>.dlq)');
  dlq
    .command('list <topic>')
    .description("a topic's dead letters, oldest first (nothing is committed)")
    .option('--limit <n>', 'at most this many')
    .action(run(async (ctx, [topic], o) => listDlq(ctx, topic!, { limit: str(o.limit) })));
  dlq
    .command('replay <topic>')
    .description('send the dead letters not replayed yet back to the topic, once each')
    .option('--group <id>', 'the consumer group remembering the replays (park.dlq-replay.<topic>)')
    .action(run(async (ctx, [topic], o) => replayDlq(ctx, topic!, { group: str(o.group) })));

  return program;
}

/** Runs parkctl with the arguments (without node and the script); resolves with the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const state = { exitCode: EXIT.ok as number };
  const program = createProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with 0; commander already printed its message.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, exitCode } = errorMessage(error, Boolean(io.env.PARKCTL_DEBUG));
    io.stderr.write(`parkctl: ${message}\n`);
    return exitCode;
  }
}
