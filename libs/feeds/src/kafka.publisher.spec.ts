import { PRODUCER_RETRY } from './kafka.publisher';

/** kafkajs waits about initialRetryTime × 2^n before retry n (randomised), capped at maxRetryTime. */
function retryWaits({ retries, timing }: typeof PRODUCER_RETRY): number[] {
  return Array.from({ length: retries }, (_, n) => Math.min(timing.initialRetryTime * 2 ** n, timing.maxRetryTime));
}

describe('Kafka producer retries', () => {
  it('retries a CONCURRENT_TRANSACTIONS answer after a commit within a few milliseconds, not 100', () => {
    expect(
      retryWaits(PRODUCER_RETRY)
        .slice(0, 2)
        .reduce((a, b) => a + b),
    ).toBeLessThanOrEqual(30);
  });

  it('still rides out a broker hiccup of several seconds before a publish fails', () => {
    expect(retryWaits(PRODUCER_RETRY).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(6_000);
  });
});
