import { UnknownEventShapeError } from './errors';
import type { JsonObject, RecordedEvent } from './types';

/** Turns one stored shape of an event type into the next; stored rows are never rewritten. */
export interface Upcaster {
  eventType: string;
  fromSchemaVersion: number;
  upcast(data: JsonObject): JsonObject;
}

/** Applies upcasters in version order until an event has the newest shape its type knows. */
export class Upcasters {
  private readonly byKey = new Map<string, Upcaster>();
  private readonly latest = new Map<string, number>();

  constructor(upcasters: readonly Upcaster[] = []) {
    for (const upcaster of upcasters) {
      const key = `${upcaster.eventType}@${upcaster.fromSchemaVersion}`;
      if (this.byKey.has(key)) throw new Error(`two upcasters for ${key}`);
      this.byKey.set(key, upcaster);
      const target = upcaster.fromSchemaVersion + 1;
      this.latest.set(
        upcaster.eventType,
        Math.max(this.latest.get(upcaster.eventType) ?? 1, target),
      );
    }
  }

  apply(event: RecordedEvent): RecordedEvent {
    const latest = this.latest.get(event.type);
    if (latest === undefined || event.schemaVersion === latest) return event;
    if (event.schemaVersion > latest) {
      throw new UnknownEventShapeError(
        `${event.type} v${event.schemaVersion} (event ${event.eventId}) is newer than this code knows (v${latest})`,
      );
    }
    let { data, schemaVersion } = event;
    while (schemaVersion < latest) {
      const upcaster = this.byKey.get(`${event.type}@${schemaVersion}`);
      if (!upcaster) {
        throw new UnknownEventShapeError(`no upcaster for ${event.type} from v${schemaVersion}`);
      }
      data = upcaster.upcast(data);
      schemaVersion += 1;
    }
    return { ...event, data, schemaVersion };
  }
}
