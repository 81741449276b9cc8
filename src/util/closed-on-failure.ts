/**
 * The pass's result; should it fail (a capture that cannot be read, Ctrl-C), `close` runs first: a view that writes
 * files while it reads closes them, and a thread that goes on to its next capture keeps no descriptor of this one.
 */
export async function closedOnFailure<T>(close: () => void, pass: Promise<T>): Promise<T> {
  try {
    return await pass;
  } catch (err) {
    close();
    throw err;
  }
}
