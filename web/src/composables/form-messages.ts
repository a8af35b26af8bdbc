import { nextTick, reactive } from 'vue';
import type { FieldName, FormMessage, Target } from '../error-messages.js';

/**
 * The messages of one form: at most one per input plus one for the whole form, and what
 * "Try again" should redo. Inputs get ids `${formId}-${field}` so a message can move focus there.
 */
export function useFormMessages(formId: string, fields: readonly FieldName[]) {
  const messages = reactive<Partial<Record<Target, FormMessage>>>({});
  const retries = new Map<Target, () => unknown>();

  const inputId = (field: FieldName) => `${formId}-${field}`;
  const messageId = (target: Target) => `${formId}-${target}-message`;

  function clear(target?: Target): void {
    for (const key of target ? [target] : (Object.keys(messages) as Target[])) {
      delete messages[key];
      retries.delete(key);
    }
  }

  /** Shows a message beside its input; one for an input this form does not have goes to the top. */
  function show(message: FormMessage, retry?: () => unknown): void {
    const target = message.target === 'form' || fields.includes(message.target) ? message.target : 'form';
    messages[target] = { ...message, target };
    if (retry) retries.set(target, retry);
    else retries.delete(target);
  }

  /** Moves focus to the first input, in form order, that has a message, so a keyboard or screen-reader user lands on it. */
  async function focusFirst(): Promise<void> {
    await nextTick();
    const first = fields.find((field) => messages[field]);
    if (first) document.getElementById(inputId(first))?.focus();
  }

  return {
    messages,
    inputId,
    messageId,
    show,
    clear,
    focusFirst,
    /** Whether any input (or the form) has a message. */
    hasAny: () => Object.keys(messages).length > 0,
    retry: (target: Target) => retries.get(target)?.(),
  };
}

export type FormMessages = ReturnType<typeof useFormMessages>;
