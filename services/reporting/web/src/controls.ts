import { h } from './dom';
import { controlId } from './view';

/** A labelled input. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLElement {
  input.id ||= controlId(label.toLowerCase().replace(/\W+/g, '-'));
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

export function dateInput(value: string, onChange: (value: string) => void, type = 'date') {
  const input = h('input', { type, value, required: true });
  input.addEventListener('change', () => {
    if (input.value) onChange(input.value);
  });
  return input;
}

export function select(
  options: { value: string; label: string }[],
  value: string,
  onChange: (value: string) => void,
): HTMLSelectElement {
  const element = h(
    'select',
    {},
    options.map((option) =>
      h('option', { value: option.value, selected: option.value === value }, option.label),
    ),
  );
  element.addEventListener('change', () => onChange(element.value));
  return element;
}
