package dev.focalsimd.bench;

/** A user error (bad option, bad file): BenchMain prints its message on one line and exits 2. */
final class BenchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BenchException(String message) {
    super(message, null, false, false);
  }
}
