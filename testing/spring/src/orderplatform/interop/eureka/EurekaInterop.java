package orderplatform.interop.eureka;

import java.util.List;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.loadbalancer.LoadBalanced;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * A Spring Boot application as the original system's services were written:
 * it registers with the registry through spring-cloud-starter-netflix-eureka-client
 * (credentials in eureka.client.service-url.defaultZone), renews its lease,
 * discovers a platform service through the DiscoveryClient and calls it by
 * name through a load-balanced RestClient. It reports what it saw as JSON lines.
 */
@SpringBootApplication
@RestController
public class EurekaInterop {
  public static void main(String[] args) {
    SpringApplication.run(EurekaInterop.class, args);
  }

  @GetMapping("/hello")
  public String hello() {
    return "spring";
  }

  // The Eureka client's own transport takes the primary RestClient.Builder:
  // it must be a plain one, or registry calls would be load-balanced too.
  @Bean
  @Primary
  RestClient.Builder plain() {
    return RestClient.builder();
  }

  @Bean
  @LoadBalanced
  RestClient.Builder loadBalanced() {
    return RestClient.builder();
  }

  @Bean
  CommandLineRunner discoverAndCall(DiscoveryClient discovery, @LoadBalanced RestClient.Builder client,
      @Value("${interop.target}") String target, @Value("${interop.path}") String path) {
    return args -> {
      Thread t = new Thread(() -> {
        try {
          for (int i = 0; i < 240; i++) {
            List<ServiceInstance> found = discovery.getInstances(target);
            if (!found.isEmpty()) {
              ServiceInstance s = found.get(0);
              Report.event("discovered", "\"instances\":" + found.size() + ",\"host\":\"" + s.getHost() + "\",\"port\":" + s.getPort());
              String body = client.build().get().uri("http://" + target + path).retrieve().body(String.class);
              Report.event("called", "\"body\":" + Report.quote(body));
              return;
            }
            Thread.sleep(250);
          }
          Report.event("not-discovered", "\"target\":" + Report.quote(target));
        } catch (Exception e) {
          Report.event("failed", "\"error\":" + Report.quote(e.toString()));
        }
      }, "interop");
      t.setDaemon(true);
      t.start();
    };
  }
}
