import { X509Certificate } from 'node:crypto';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

function subjectOf(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}

/**
 * What is wrong with a certificate file as a whole: the file a web server serves, not only its
 * leaf. Returns null when the file is nothing but PEM certificates (whitespace between them),
 * each of them parses, there is at least one intermediate after the leaf, and each certificate is
 * issued and signed by the next. No root is needed: the links of the chain are checked, not
 * where it ends (a CA may send a chain up to a cross-signed root or stop below it).
 * Pure; throws nothing.
 */
export function chainProblem(pem: string): string | null {
  const certs: X509Certificate[] = [];
  let rest = pem;
  for (;;) {
    const start = rest.indexOf(BEGIN);
    const before = start < 0 ? rest : rest.slice(0, start);
    if (before.trim() !== '') {
      const what = before.includes('-----') ? 'a damaged PEM block' : 'text that is not a certificate';
      return `${what} ${certs.length === 0 ? 'before the first certificate' : `after certificate ${certs.length}`}`;
    }
    if (start < 0) break;
    const end = rest.indexOf(END, start);
    const nextBegin = rest.indexOf(BEGIN, start + BEGIN.length);
    if (end < 0 || (nextBegin >= 0 && nextBegin < end)) return `certificate ${certs.length + 1} is cut short (no END line)`;
    const block = rest.slice(start, end + END.length);
    try {
      certs.push(new X509Certificate(block));
    } catch (err) {
      return `certificate ${certs.length + 1} does not parse (${err instanceof Error ? err.message : String(err)})`;
    }
    rest = rest.slice(end + END.length);
  }
  if (certs.length === 0) return 'no PEM certificate in file';
  if (certs.length === 1) return 'no intermediate certificate after the leaf';
  for (let i = 0; i + 1 < certs.length; i++) {
    const [child, parent] = [certs[i], certs[i + 1]];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      return `certificate ${i + 1} (${subjectOf(child)}) is not signed by the next one (${subjectOf(parent)})`;
    }
  }
  return null;
}
