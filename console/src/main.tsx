/**
 * The Weft console: sign in with an API key, then a page per resource
 * (pages/index.ts), the topology and the tracer. Hash routes (#/vpcs,
 * #/vpcs/vpc-…): the controller serves one index.html at /console.
 */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { bindApi, call, clearCredentials, savedCredentials, saveCredentials, type Api } from './api';
import { LangContext, saveLang, savedLang, translate, type Lang } from './i18n';
import { PAGES } from './pages';
import { ApiContext, ErrorBox } from './ui';
import './style.css';

function useHash(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const on = () => setParts(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parts;
}

function SignIn({ onIn, lang }: { onIn: (api: Api) => void; lang: Lang }) {
  const t = (k: string) => translate(lang, k);
  const [error, setError] = useState<unknown>();
  return (
    <form
      className="signin card"
      data-testid="signin"
      onSubmit={(e) => {
        e.preventDefault();
        const d = new FormData(e.currentTarget);
        const key = { secretId: String(d.get('secretId')).trim(), secretKey: String(d.get('secretKey')).trim(), region: '' };
        // DescribeRegions needs no region: it checks the key and says which region this controller serves.
        call<{ RegionSet: { Region: string }[] }>(key, 'cvm', 'DescribeRegions')
          .then((r) => {
            const c = { ...key, region: r.RegionSet[0]?.Region ?? '' };
            saveCredentials(c);
            onIn(bindApi(c));
          })
          .catch(setError);
      }}
    >
      <h1>Weft</h1>
      <label>
        <span>{t('SecretId')}</span>
        <input name="secretId" autoComplete="username" required />
      </label>
      <label>
        <span>{t('SecretKey')}</span>
        <input name="secretKey" type="password" autoComplete="current-password" required />
      </label>
      <ErrorBox error={error} />
      <button type="submit">{t('Sign in')}</button>
      <p className="muted">The key is kept in this tab's session storage only; every request is signed here (TC3-HMAC-SHA256) and sent to the public API.</p>
    </form>
  );
}

function App() {
  const [lang, setLang] = useState<Lang>(savedLang);
  const [api, setApi] = useState<Api | undefined>(() => {
    const c = savedCredentials();
    return c ? bindApi(c) : undefined;
  });
  const [route, ...rest] = useHash();
  const t = (k: string) => translate(lang, k);
  const switchLang = () => {
    const next = lang === 'en' ? 'zh' : 'en';
    saveLang(next);
    setLang(next);
  };
  if (!api)
    return (
      <LangContext.Provider value={lang}>
        <SignIn onIn={setApi} lang={lang} />
      </LangContext.Provider>
    );
  const page = PAGES.find((p) => p.path === route) ?? PAGES[0]!;
  const Body = page.component;
  return (
    <LangContext.Provider value={lang}>
      <ApiContext.Provider value={api}>
        <div className="shell">
          <nav>
            <div className="brand">Weft</div>
            {PAGES.map((p) => (
              <a key={p.path} href={`#/${p.path}`} className={p === page ? 'active' : undefined} data-nav={p.path}>
                {t(p.title)}
              </a>
            ))}
          </nav>
          <main>
            <header>
              <h2>{t(page.title)}</h2>
              <span className="muted">
                {api.credentials.region} · {api.credentials.secretId}
              </span>
              <button className="link" onClick={switchLang} data-testid="lang">
                {lang === 'en' ? '中文' : 'English'}
              </button>
              <button
                className="link"
                data-testid="signout"
                onClick={() => {
                  clearCredentials();
                  setApi(undefined);
                  location.hash = '';
                }}
              >
                {t('Sign out')}
              </button>
            </header>
            <Body params={rest} />
          </main>
        </div>
      </ApiContext.Provider>
    </LangContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
