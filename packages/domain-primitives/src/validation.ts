import { ValidationError, type FieldViolation } from '@park/service-kit/errors';
import { parseDecimal, type Dec } from './decimal';

/**
 * Collects every problem of a command before throwing, so a caller fixes a bad registration in
 * one round trip instead of one field at a time. Field names are the API's (snake_case).
 */
export class Violations {
  private readonly list: FieldViolation[] = [];

  add(field: string, description: string): void {
    this.list.push({ field, description });
  }

  get any(): boolean {
    return this.list.length > 0;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new ValidationError([...this.list]);
  }

  /** A trimmed non-empty string, or undefined after recording the violation. */
  requiredText(field: string, value: unknown, maxLength = 200): string | undefined {
    if (typeof value !== 'string' || value.trim() === '') {
      this.add(field, 'is required');
      return undefined;
    }
    const text = value.trim();
    if (text.length > maxLength) {
      this.add(field, `must be at most ${maxLength} characters`);
      return undefined;
    }
    return text;
  }

  optionalText(field: string, value: unknown, maxLength = 200): string | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    return this.requiredText(field, value, maxLength);
  }

  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) {
      return value as T;
    }
    this.add(field, `must be one of ${allowed.join(', ')}`);
    return undefined;
  }

  boolean(field: string, value: unknown): boolean | undefined {
    if (typeof value === 'boolean') return value;
    this.add(field, 'must be true or false');
    return undefined;
  }

  positiveDecimal(field: string, value: unknown): Dec | undefined {
    const parsed = parseDecimal(value);
    if (!parsed) {
      this.add(field, 'must be a decimal number such as "1.5"');
      return undefined;
    }
    if (!parsed.gt(0)) {
      this.add(field, 'must be greater than zero');
      return undefined;
    }
    return parsed;
  }
}
