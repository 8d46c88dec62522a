package dev.reft.policy.checkpoint;

import java.io.IOException;

/**
 * A checkpoint directory does not match its manifest (a file was modified, added, removed or
 * truncated), or its manifest does not have the identity hash the caller expected. Never load such a
 * checkpoint.
 */
public final class CheckpointIntegrityException extends IOException {

  private static final long serialVersionUID = 1L;

  /** @param message what does not match, naming the directory and the file */
  public CheckpointIntegrityException(String message) {
    super(message);
  }
}
