import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { requireRole, type Principal } from '@park/service-kit';
import { PermissionDeniedError, ValidationError } from '@park/service-kit/errors';
import type { ReportingQueries } from '../kpis/reporting-queries';
import { CSV_CONTENT_TYPE, PDF_CONTENT_TYPE, renderCsv, renderPdf } from '../statements';

export type ReportKind = 'enterprise_statement' | 'park_report' | 'cbam';
export type ReportFormat = 'csv' | 'pdf' | 'json';

export interface ReportFile {
  contentType: string;
  fileName: string;
  bytes: Buffer;
}

export interface ReportRequest {
  kind: ReportKind;
  format: ReportFormat;
  subjectId: string;
  month: string;
  toMonth?: string;
}

/** CBAM data comes from the carbon service, asked with the caller's own token. */
export type CbamSource = (
  installationId: string,
  fromMonth: string,
  toMonth: string,
  authorization: string,
) => Promise<{ csv: Buffer; json: unknown }>;

/** A client of the carbon service (CBAM data for the exports, certificates for the dashboard). */
export function carbonClient(address: string): park.carbon.v1.CarbonServiceClient {
  return new park.carbon.v1.CarbonServiceClient(address, grpc.credentials.createInsecure());
}

export function carbonCbamSource(client: park.carbon.v1.CarbonServiceClient): CbamSource {
  return (installationId, fromMonth, toMonth, authorization) =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', authorization);
      client.getCbamData(
        { installationId, fromMonth, toMonth },
        metadata,
        { deadline: Date.now() + 30_000 },
        (error, response) => {
          if (error) {
            reject(
              error.code === grpc.status.PERMISSION_DENIED
                ? new PermissionDeniedError(error.details)
                : error.code === grpc.status.INVALID_ARGUMENT
                  ? ValidationError.field('month', error.details)
                  : error,
            );
            return;
          }
          resolve({
            csv: Buffer.from(response!.csv),
            json: park.carbon.v1.CbamData.toJSON(response!.data!),
          });
        },
      );
    });
}

/**
 * Renders the reports: an enterprise's monthly statement (its own enterprise for an enterprise
 * token), the park's monthly report (operators and services) and CBAM data (from carbon, which
 * checks the caller's right to the installation).
 */
export class ReportExporter {
  constructor(
    private readonly queries: ReportingQueries,
    private readonly cbam?: CbamSource,
  ) {}

  async export(
    principal: Principal,
    authorization: string,
    request: ReportRequest,
  ): Promise<ReportFile> {
    const subject = request.subjectId.trim();
    if (!subject) throw ValidationError.field('subject_id', 'is required');
    switch (request.kind) {
      case 'enterprise_statement': {
        if (principal.role === 'enterprise' && principal.enterpriseId !== subject) {
          throw new PermissionDeniedError(
            `an enterprise token for ${principal.enterpriseId} cannot read enterprise ${subject}'s statement`,
          );
        }
        requireRole(principal, 'operator', 'enterprise', 'service');
        const statement = await this.queries.enterpriseStatement(subject, request.month);
        return this.render(statement, request.format, `statement-${subject}-${request.month}`);
      }
      case 'park_report': {
        requireRole(principal, 'operator', 'service');
        const report = await this.queries.parkReport(subject, request.month);
        return this.render(report, request.format, `park-report-${subject}-${request.month}`);
      }
      case 'cbam': {
        requireRole(principal, 'operator', 'enterprise', 'service');
        if (!this.cbam)
          throw new ValidationError([
            {
              field: 'kind',
              description:
                'CBAM data needs the carbon service address (REPORTING_CARBON_GRPC_ADDRESS)',
            },
          ]);
        const to = request.toMonth || request.month;
        const data = await this.cbam(subject, request.month, to, authorization);
        const fileName = `cbam-${subject}-${request.month}-${to}`;
        if (request.format === 'json') {
          return {
            contentType: 'application/json',
            fileName: `${fileName}.json`,
            bytes: Buffer.from(JSON.stringify(data.json, null, 2)),
          };
        }
        if (request.format !== 'csv')
          throw ValidationError.field('format', 'CBAM data comes as CSV or JSON');
        return { contentType: CSV_CONTENT_TYPE, fileName: `${fileName}.csv`, bytes: data.csv };
      }
    }
  }

  private async render(
    report: Parameters<typeof renderCsv>[0],
    format: ReportFormat,
    name: string,
  ): Promise<ReportFile> {
    if (format === 'csv') {
      return {
        contentType: CSV_CONTENT_TYPE,
        fileName: `${name}.csv`,
        bytes: Buffer.from(renderCsv(report), 'utf8'),
      };
    }
    if (format === 'pdf') {
      return {
        contentType: PDF_CONTENT_TYPE,
        fileName: `${name}.pdf`,
        bytes: await renderPdf(report),
      };
    }
    if (format === 'json') {
      return {
        contentType: 'application/json',
        fileName: `${name}.json`,
        bytes: Buffer.from(JSON.stringify(report, null, 2)),
      };
    }
    throw ValidationError.field('format', 'must be csv, pdf or json');
  }
}
