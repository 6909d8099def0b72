import type { OptimizerChoice } from './optimizer-choices.ts';

/** Options not worth a field in a small demo form. */
const HIDDEN = new Set(['maximize', 'epsInsideSqrt', 'centered', 'amsgrad', 'dampening']);

/**
 * A compact row per choice: an enable checkbox, a colour swatch, and an input per option
 * (numbers, the two betas, booleans). Edits write straight into `choice.options`.
 */
export function renderChoices(
  container: HTMLElement,
  choices: OptimizerChoice[],
  onChange: () => void = () => {},
): void {
  container.replaceChildren();
  for (const choice of choices) {
    const row = document.createElement('div');
    row.className = 'choice';
    const enable = document.createElement('input');
    enable.type = 'checkbox';
    enable.checked = choice.enabled;
    enable.dataset.choice = choice.label;
    enable.addEventListener('change', () => {
      choice.enabled = enable.checked;
      onChange();
    });
    const name = document.createElement('label');
    name.className = 'choice-name';
    name.style.borderLeftColor = choice.color;
    name.append(enable, ` ${choice.label}`);
    row.append(name);
    for (const [key, value] of Object.entries(choice.options)) {
      if (HIDDEN.has(key)) continue;
      if (Array.isArray(value)) {
        value.forEach((v, i) =>
          row.append(
            numberField(`${key === 'betas' ? 'beta' : key}${i + 1}`, v as number, (x) => {
              (choice.options[key] as number[])[i] = x;
              onChange();
            }),
          ),
        );
      } else if (typeof value === 'number') {
        row.append(
          numberField(key, value, (x) => {
            choice.options[key] = x;
            onChange();
          }),
        );
      } else if (typeof value === 'boolean') {
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.checked = value;
        box.addEventListener('change', () => {
          choice.options[key] = box.checked;
          onChange();
        });
        const label = document.createElement('label');
        label.append(box, key);
        row.append(label);
      }
    }
    container.append(row);
  }
}

function numberField(name: string, value: number, set: (x: number) => void): HTMLElement {
  const label = document.createElement('label');
  const input = document.createElement('input');
  input.type = 'number';
  input.step = 'any';
  input.value = String(value);
  input.title = name;
  input.addEventListener('change', () => {
    const x = Number(input.value);
    if (Number.isFinite(x)) set(x);
  });
  label.append(`${name} `, input);
  return label;
}
