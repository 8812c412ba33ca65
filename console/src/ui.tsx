/**
 * The console's shared pieces: the API context, an error box that shows
 * Tencent's code and message beside what caused it, a server-paged and
 * filtered table, a form with its own error, and polling (pages update when
 * state changes).
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Api } from './api';
import { useT } from './i18n';

export const ApiContext = createContext<Api | undefined>(undefined);
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside a signed-in page');
  return api;
}

/** An API error as the user should read it: the code, the message, the request ID. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError)
    return (
      <div className="error" role="alert" data-code={error.code}>
        <strong>{error.code}</strong> {error.message}
        <div className="muted">
          {error.action} · RequestId {error.requestId}
        </div>
      </div>
    );
  return (
    <div className="error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </div>
  );
}

/** Re-runs `load` every `ms` while the page is shown (and on `deps` change); keeps the last good value. */
export function usePolled<T>(load: () => Promise<T>, deps: unknown[], ms = 3000) {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [tick, setTick] = useState(0);
  const live = useRef(true);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    live.current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const go = () =>
      run()
        .then((v) => live.current && (setValue(v), setError(undefined)))
        .catch((e: unknown) => live.current && setError(e))
        .finally(() => {
          if (live.current && ms > 0) timer = setTimeout(go, ms);
        });
    go();
    return () => {
      live.current = false;
      clearTimeout(timer);
    };
  }, [run, ms, tick]);
  return { value, error, reload: () => setTick((t) => t + 1) };
}

export interface Column<R> {
  title: string;
  render: (row: R) => ReactNode;
}

export interface Page<R> {
  rows: R[];
  total: number;
}

/**
 * A list paged and filtered on the server: `load(offset, limit, search)`
 * asks the API for one page (Offset/Limit, and the search text as the
 * action's name filter). Only a page is rendered, so 10,000 rows cost what 20 do.
 */
export function ResourceTable<R>(p: {
  testId: string;
  columns: Column<R>[];
  load: (offset: number, limit: number, search: string) => Promise<Page<R>>;
  rowKey: (r: R) => string;
  searchPlaceholder?: string;
  pageSize?: number;
  deps?: unknown[];
  onSelect?: (r: R) => void;
}) {
  const t = useT();
  const limit = p.pageSize ?? 20;
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState('');
  const [typed, setTyped] = useState('');
  const { value, error } = usePolled(() => p.load(offset, limit, search), [offset, search, limit, ...(p.deps ?? [])]);
  const total = value?.total ?? 0;
  return (
    <div className="table" data-testid={p.testId}>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setSearch(typed.trim());
        }}
      >
        <input placeholder={t(p.searchPlaceholder ?? 'Search')} value={typed} onChange={(e) => setTyped(e.target.value)} aria-label="search" />
        <button type="submit">{t('Search')}</button>
        <span className="muted" data-testid={`${p.testId}-total`}>
          {value ? `${total} total` : t('Loading…')}
        </span>
      </form>
      <ErrorBox error={error} />
      <table>
        <thead>
          <tr>
            {p.columns.map((c) => (
              <th key={c.title}>{t(c.title)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {value?.rows.map((r) => (
            <tr key={p.rowKey(r)} data-row={p.rowKey(r)} onClick={p.onSelect ? () => p.onSelect!(r) : undefined} className={p.onSelect ? 'clickable' : undefined}>
              {p.columns.map((c) => (
                <td key={c.title}>{c.render(r)}</td>
              ))}
            </tr>
          ))}
          {value && !value.rows.length && (
            <tr>
              <td colSpan={p.columns.length} className="muted">
                {t('No rows')}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="pager">
        <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>
          {t('Previous')}
        </button>
        <span>
          {total ? `${offset + 1}–${Math.min(offset + limit, total)} / ${total}` : ''}
        </span>
        <button disabled={offset + limit >= total} onClick={() => setOffset(offset + limit)}>
          {t('Next')}
        </button>
      </div>
    </div>
  );
}

export interface Field {
  name: string;
  label: string;
  placeholder?: string;
  options?: { value: string; label: string }[];
  defaultValue?: string;
}

/** Values of every named input of a form, as strings. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((v, k) => (out[k] = String(v).trim()));
  return out;
}

/** A form of free inputs whose API error shows right under it; `submit` gets the named values. */
export function FormCard(p: {
  testId: string;
  title: string;
  submitLabel?: string;
  submit: (values: Record<string, string>) => Promise<unknown>;
  onDone?: (result: unknown) => void;
  children: ReactNode;
  /** Extra buttons beside submit (e.g. a preview). */
  extra?: ReactNode;
}) {
  const t = useT();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="card form"
      data-testid={p.testId}
      onSubmit={(e) => {
        e.preventDefault();
        const values = formValues(e.currentTarget);
        setBusy(true);
        setError(undefined);
        p.submit(values)
          .then((r) => p.onDone?.(r))
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <h3>{t(p.title)}</h3>
      {p.children}
      <ErrorBox error={error} />
      <div className="buttons">
        {p.extra}
        <button type="submit" disabled={busy}>
          {busy ? t('Loading…') : t(p.submitLabel ?? 'Create')}
        </button>
      </div>
    </form>
  );
}

/** A form of fixed fields (inputs or selects named for the API's parameters), as FormCard lays them out. */
export function ActionForm(p: { testId: string; title: string; fields: Field[]; submitLabel?: string; submit: (values: Record<string, string>) => Promise<unknown>; onDone?: () => void }) {
  const t = useT();
  return (
    <FormCard testId={p.testId} title={p.title} submitLabel={p.submitLabel} submit={p.submit} onDone={p.onDone}>
      {p.fields.map((f) => (
        <label key={f.name}>
          <span>{t(f.label)}</span>
          {f.options ? (
            <select name={f.name} defaultValue={f.defaultValue}>
              {f.options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          ) : (
            <input name={f.name} placeholder={f.placeholder} defaultValue={f.defaultValue} />
          )}
        </label>
      ))}
    </FormCard>
  );
}

/** A Tencent "Filters" list with one name filter, or none for an empty search. */
export const nameFilter = (name: string, search: string) => (search ? [{ Name: name, Values: [search] }] : undefined);

/** A delete (or other) button whose error shows beside it. */
export function ActionButton(p: { label: string; run: () => Promise<unknown>; onDone?: () => void; testId?: string }) {
  const t = useT();
  const [error, setError] = useState<unknown>();
  return (
    <span className="action" onClick={(e) => e.stopPropagation()}>
      <button data-testid={p.testId} onClick={() => p.run().then(() => (setError(undefined), p.onDone?.()), setError)}>
        {t(p.label)}
      </button>
      <ErrorBox error={error} />
    </span>
  );
}
