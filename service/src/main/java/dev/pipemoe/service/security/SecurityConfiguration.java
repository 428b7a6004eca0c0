package dev.pipemoe.service.security;

import jakarta.servlet.DispatcherType;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;

/**
 * Who may call what. Bearer tokens only: no sessions, no cookies (so no CSRF), no basic or form
 * login. Health is the only anonymous route; the jobs API is for users and admins (never workers),
 * token administration and the other actuator endpoints for admins, the Prometheus scrape for
 * admins and METRICS tokens, the worker protocol for workers, the list of workers for users,
 * admins and workers; anything else needs a user, admin or worker token (a METRICS token can
 * scrape and nothing more).
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

  @Bean
  SecurityFilterChain api(HttpSecurity http, TokenService tokens, SecurityProblems problems) {
    return http
        .csrf(AbstractHttpConfigurer::disable)
        .httpBasic(AbstractHttpConfigurer::disable)
        .formLogin(AbstractHttpConfigurer::disable)
        .logout(AbstractHttpConfigurer::disable)
        .requestCache(AbstractHttpConfigurer::disable)
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .addFilterBefore(new BearerTokenFilter(tokens, problems), AnonymousAuthenticationFilter.class)
        .exceptionHandling(e -> e.authenticationEntryPoint(problems).accessDeniedHandler(problems))
        .authorizeHttpRequests(requests -> requests
            // errors raised after authorization render as problem details, whoever asked; an
            // ASYNC dispatch (the end of a live stream) belongs to a request authorized already
            .dispatcherTypeMatchers(DispatcherType.ERROR, DispatcherType.ASYNC).permitAll()
            .requestMatchers(EndpointRequest.to(HealthEndpoint.class)).permitAll()
            // the API's description, not its data (docs/service.md §12); Swagger UI takes a token itself
            .requestMatchers("/v3/api-docs", "/v3/api-docs/**", "/v3/api-docs.yaml", "/swagger-ui.html",
                "/swagger-ui/**").permitAll()
            .requestMatchers(EndpointRequest.to("prometheus")).hasAnyRole(Role.ADMIN.name(), Role.METRICS.name())
            .requestMatchers(EndpointRequest.toAnyEndpoint()).hasRole(Role.ADMIN.name())
            .requestMatchers("/api/v1/jobs", "/api/v1/jobs/**").hasAnyRole(Role.USER.name(), Role.ADMIN.name())
            .requestMatchers("/api/v1/admin/**").hasRole(Role.ADMIN.name())
            .requestMatchers(HttpMethod.GET, "/api/v1/workers")
            .hasAnyRole(Role.USER.name(), Role.ADMIN.name(), Role.WORKER.name())
            .requestMatchers("/api/v1/workers", "/api/v1/workers/**").hasRole(Role.WORKER.name())
            .anyRequest().hasAnyRole(Role.USER.name(), Role.ADMIN.name(), Role.WORKER.name()))
        .build();
  }
}
