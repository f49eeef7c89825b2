/** Images in the daemon's store: name, tags, digest, size, date. */
import { call, type Image } from '../api.ts';
import { bytes, short, when } from '../format.ts';
import { usePoll } from '../poll.ts';

export function ImagesPage() {
  const { value: images, error } = usePoll(() => call<Image[]>('GET', '/v1/images'), 10_000);
  return (
    <>
      <h1>Images</h1>
      {error !== undefined && <p class="error" role="alert">{error.message}</p>}
      {images === undefined ? <p role="status">Loading…</p> : (
        <div class="scroll">
          <table id="images">
            <thead><tr><th scope="col">Name</th><th scope="col">Tags</th><th scope="col">Digest</th><th scope="col">Size</th><th scope="col">Created</th></tr></thead>
            <tbody>
              {images.length === 0 && <tr><td colSpan={5}>The store is empty.</td></tr>}
              {images.map((i) => (
                <tr key={i.digest}>
                  <th scope="row">{i.name}</th>
                  <td>{i.tags.map((t) => <code key={t} class="tag">{t}</code>)}</td>
                  <td><code title={i.digest}>{short(i.digest)}</code></td>
                  <td class="num">{bytes(i.size)}</td>
                  <td>{when(i.created)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
