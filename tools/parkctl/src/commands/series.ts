// `parkctl series <meter>`: a meter's values per quarter hour, hour, day or month.
import { park } from '@park/contracts';
import type { Context } from '../context';
import { labelOf, parseEnumOf, unitLabel } from '../enums';
import { listView, type Column } from '../output';
import { parseRange } from '../time';
import { dec, iso } from '../values';

export interface SeriesOptions {
  from?: string;
  to?: string;
  resolution?: string;
}

const COLUMNS: Column[] = [
  { key: 'start' },
  { key: 'value', align: 'right' },
  { key: 'unit' },
  { key: 'measured', align: 'right' },
  { key: 'estimated', align: 'right' },
  { key: 'edited', align: 'right' },
];

export async function series(ctx: Context, meterId: string, options: SeriesOptions) {
  const range = parseRange(options.from, options.to, ctx.settings.timeZone);
  const resolution = parseEnumOf('resolution', options.resolution ?? 'hour', '--resolution');
  const response = await ctx.unary<'metering', park.metering.v1.GetSeriesResponse>(
    'metering',
    (client, md, opts, done) =>
      client.getSeries(
        park.metering.v1.GetSeriesRequest.fromPartial({ meterId, resolution, range }),
        md,
        opts,
        done,
      ),
  );
  const unit = unitLabel(response.unit);
  const view = listView(
    park.metering.v1.GetSeriesResponse.toJSON(response),
    COLUMNS,
    response.points.map((point) => ({
      start: iso(point.start),
      value: dec(point.value),
      unit,
      measured: point.measuredIntervals,
      estimated: point.estimatedIntervals,
      edited: point.editedIntervals,
    })),
    '(no values in the range)',
  );
  view.notes = [
    `${meterId}: ${response.points.length} value(s) per ${labelOf('resolution', response.resolution)}; ` +
      'measured, estimated and edited count the intervals behind each value',
  ];
  return view;
}
