import { principalOf, type ServeOptions } from '@park/service-kit';
import { ValidationError } from '@park/service-kit/errors';
import type { ReportExporter, ReportFormat, ReportKind } from './reports';

type Router = Parameters<NonNullable<ServeOptions['httpRoutes']>>[0];

const FORMATS: readonly ReportFormat[] = ['csv', 'pdf', 'json'];

/**
 * The report downloads, with the same bearer tokens and rules as ExportReport:
 *   GET /v1/reports/enterprises/{enterpriseId}/statements/{YYYY-MM}.{csv|pdf|json}
 *   GET /v1/reports/parks/{parkId}/reports/{YYYY-MM}.{csv|pdf|json}
 *   GET /v1/reports/installations/{installationId}/cbam/{YYYY-MM}..{YYYY-MM}.{csv|json}
 */
export function mountReportDownloads(router: Router, exporter: ReportExporter): void {
  const send =
    (kind: ReportKind) =>
    async (
      request: Parameters<Parameters<Router['get']>[1]>[0],
      response: Parameters<Parameters<Router['get']>[1]>[1],
    ) => {
      const params = request.params as Record<string, string>;
      const file = params.file ?? '';
      const dot = file.lastIndexOf('.');
      const format = file.slice(dot + 1) as ReportFormat;
      if (dot < 0 || !FORMATS.includes(format)) {
        throw ValidationError.field(
          'format',
          `the file must end in .csv, .pdf or .json, not '${file}'`,
        );
      }
      const period = file.slice(0, dot);
      const [month, toMonth] = kind === 'cbam' ? period.split('..') : [period, undefined];
      const result = await exporter.export(
        principalOf(request),
        request.headers.authorization ?? '',
        {
          kind,
          format,
          subjectId: params.id ?? '',
          month: month ?? '',
          ...(toMonth ? { toMonth } : {}),
        },
      );
      response
        .status(200)
        .type(result.contentType)
        .set('Content-Disposition', `attachment; filename="${result.fileName}"`)
        .send(result.bytes);
    };
  router.get('/v1/reports/enterprises/:id/statements/:file', send('enterprise_statement'));
  router.get('/v1/reports/parks/:id/reports/:file', send('park_report'));
  router.get('/v1/reports/installations/:id/cbam/:file', send('cbam'));
}
