package dev.agentescrow.backend.escrow.web;

import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The answers every escrow action documents: the escrow (and for chain escrows the calls), or a refusal with its codes. */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ApiResponse(responseCode = "200", description = EscrowController.OK)
@ApiResponse(responseCode = "403", description = EscrowController.FORBIDDEN)
@ApiResponse(responseCode = "404", description = EscrowController.NOT_FOUND)
@ApiResponse(responseCode = "409", description = EscrowController.CONFLICT)
@ApiResponse(responseCode = "422", description = EscrowController.UNPROCESSABLE)
@interface EscrowActionResponses {
}
