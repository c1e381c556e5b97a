/** What a cancel (a reason) or a complete (a result, JSON) needs besides the commands, checked before a call. */
export type ManyAction = 'retry' | 'cancel' | 'complete';

export function actionExtras(action: ManyAction, reason: string, resultText: string): { error: string } | { extra: { reason?: string; resultData?: unknown } } {
  if (action === 'cancel') {
    return reason.trim() ? { extra: { reason } } : { error: 'A cancel needs a reason: it is recorded on every command and sent in its reply.' };
  }
  if (action === 'complete') {
    try {
      return { extra: { resultData: JSON.parse(resultText) as unknown } };
    } catch (error) {
      return { error: `The result is not JSON: ${(error as Error).message}` };
    }
  }
  return { extra: {} };
}
