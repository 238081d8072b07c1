package orderplatform.interop.dlt;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.kafka.support.KafkaHeaders;

/**
 * A Spring Kafka listener container reading the first record of a dead-letter
 * topic, and its origin read through Spring Kafka's own KafkaHeaders.DLT_*
 * names and encodings (ByteBuffer ints and longs, as
 * DeadLetterPublishingRecoverer writes them). Prints one JSON line.
 *   DltInterop BOOTSTRAP TOPIC
 */
public final class DltInterop {
  public static void main(String[] args) throws Exception {
    Map<String, Object> props = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
        ConsumerConfig.GROUP_ID_CONFIG, "spring-dlt-interop",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    var factory = new DefaultKafkaConsumerFactory<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    BlockingQueue<ConsumerRecord<byte[], byte[]>> received = new LinkedBlockingQueue<>();
    ContainerProperties container = new ContainerProperties(args[1]);
    container.setMessageListener((MessageListener<byte[], byte[]>) received::add);
    var listener = new KafkaMessageListenerContainer<>(factory, container);
    listener.start();
    ConsumerRecord<byte[], byte[]> r = received.poll(90, TimeUnit.SECONDS);
    listener.stop();
    if (r == null) {
      System.out.println("{\"event\":\"nothing\"}");
      System.exit(2);
    }
    Headers h = r.headers();
    System.out.println("{\"event\":\"dead-letter\""
        + ",\"originalTopic\":\"" + text(h, KafkaHeaders.DLT_ORIGINAL_TOPIC) + "\""
        + ",\"originalPartition\":" + ByteBuffer.wrap(bytes(h, KafkaHeaders.DLT_ORIGINAL_PARTITION)).getInt()
        + ",\"originalOffset\":" + ByteBuffer.wrap(bytes(h, KafkaHeaders.DLT_ORIGINAL_OFFSET)).getLong()
        + ",\"originalTimestamp\":" + ByteBuffer.wrap(bytes(h, KafkaHeaders.DLT_ORIGINAL_TIMESTAMP)).getLong()
        + ",\"timestampType\":\"" + text(h, KafkaHeaders.DLT_ORIGINAL_TIMESTAMP_TYPE) + "\""
        + ",\"group\":\"" + text(h, KafkaHeaders.DLT_ORIGINAL_CONSUMER_GROUP) + "\""
        + ",\"exceptionClass\":\"" + text(h, KafkaHeaders.DLT_EXCEPTION_FQCN) + "\""
        + ",\"exceptionMessageLength\":" + text(h, KafkaHeaders.DLT_EXCEPTION_MESSAGE).length()
        + ",\"exceptionMessageStart\":\"" + safe(text(h, KafkaHeaders.DLT_EXCEPTION_MESSAGE), 24) + "\""
        + ",\"stacktracePresent\":" + (h.lastHeader(KafkaHeaders.DLT_EXCEPTION_STACKTRACE) != null)
        + "}");
    System.exit(0);
  }

  private static byte[] bytes(Headers h, String name) {
    Header v = h.lastHeader(name);
    if (v == null) throw new IllegalStateException("no header " + name);
    return v.value();
  }

  private static String text(Headers h, String name) {
    return new String(bytes(h, name), StandardCharsets.UTF_8);
  }

  // A prefix with only letters, digits, spaces and ':' (no JSON escaping needed).
  private static String safe(String s, int n) {
    return s.substring(0, Math.min(n, s.length())).replaceAll("[^A-Za-z0-9 :]", "_");
  }
}
