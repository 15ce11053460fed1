package io.sagebus.impl.pipeline;

import io.sagebus.BatchFunction;

import java.util.Collection;
import java.util.Iterator;
import java.util.Objects;

/**
 * A batch read from a collection: it knows how many records it will emit, which a job's progress
 * reports as its total. The collection is iterated lazily, once, when the job runs.
 *
 * @param <T> the record type
 */
public final class CollectionBatch<T> extends BatchFunction<T> {

  private final Collection<? extends T> records;
  private final long size;
  private Iterator<? extends T> iterator;

  /**
   * A batch of a collection's records.
   *
   * @param records the records; none may be {@code null}. Its size is read now.
   */
  public CollectionBatch(Collection<? extends T> records) {
    this.records = Objects.requireNonNull(records, "records");
    this.size = records.size();
  }

  /**
   * {@return how many records the batch emits: the collection's size when the pipeline was built}
   */
  public long size() {
    return size;
  }

  @Override
  public T execute() {
    if (iterator == null) {
      iterator = records.iterator();
    }
    return iterator.hasNext() ? Objects.requireNonNull(iterator.next(),
      "the batch holds a null record: null records are not allowed") : null;
  }
}
