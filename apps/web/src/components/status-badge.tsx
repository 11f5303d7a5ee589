export function StatusBadge({ status }: { status: string | null }) {
  return <span class={`badge status-${status ?? 'none'}`}>{status ?? 'no status'}</span>;
}
