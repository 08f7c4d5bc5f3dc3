package calculon.schedule;

/**
 * Communication that runs beside independent compute (on its own links and copy engines, as
 * DualPipe's overlapped forward/backward pairs and Megatron-Core's all-to-all overlap run it):
 * only the part that outlasts the compute stays exposed.
 */
final class CommOverlap {
  private CommOverlap() {}

  /**
   * The fraction of {@code commSeconds} still exposed when it overlaps {@code computeSeconds} of
   * compute that does not wait for it: max(0, comm - compute) / comm (1 when there is no comm).
   */
  static double exposedFraction(double commSeconds, double computeSeconds) {
    return commSeconds > 0 ? Math.max(0, commSeconds - computeSeconds) / commSeconds : 1;
  }
}
