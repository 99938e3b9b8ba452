import { performance } from 'node:perf_hooks';
import { infraDown, infraUp } from './stack';

async function main(command: string | undefined): Promise<void> {
  const start = performance.now();
  switch (command) {
    case 'up': {
      const infra = await infraUp();
      console.log(`\ninfrastructure up in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      console.log(`  Kafka bootstrap   ${infra.kafkaBrokers.join(',')}`);
      console.log(`  PostgreSQL        ${infra.postgresAdminUrl}`);
      for (const [service, url] of Object.entries(infra.serviceDatabaseUrls)) {
        console.log(`    ${service.padEnd(15)} ${url}`);
      }
      console.log(`  Redis             ${infra.redisUrl}`);
      return;
    }
    case 'down':
      await infraDown();
      return;
    default:
      throw new Error(`usage: infra up|down (got ${command ?? 'nothing'})`);
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
