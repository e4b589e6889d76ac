package io.bastion.node.upstream.oauth;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import io.bastion.protocol.Json;
import java.net.URI;

/**
 * Bastion's OAuth Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document, the
 * MCP 2025-11-25 client identity): an authorization server that announces
 * {@code client_id_metadata_document_supported} accepts the document's https URL as the
 * {@code client_id} and fetches the document to learn the client (name, redirect URIs), so no
 * Dynamic Client Registration is needed. Bastion is a public client there (PKCE,
 * {@code token_endpoint_auth_method: none}). The node serves it at {@link #PATH}.
 */
public final class ClientMetadataDocument {

  /** Where every node serves the document. */
  public static final String PATH = "/oauth/client-metadata.json";
  static final String SUPPORTED = "client_id_metadata_document_supported";

  private ClientMetadataDocument() {}

  /** The document for client id {@code url} and the callback {@code redirect}. */
  static String json(URI url, URI redirect) {
    ObjectNode doc = Json.object().put("client_id", url.toString()).put("client_name", "Bastion")
        .put("token_endpoint_auth_method", "none");
    doc.putArray("redirect_uris").add(redirect.toString());
    doc.putArray("grant_types").add("authorization_code").add("refresh_token");
    doc.putArray("response_types").add("code");
    return doc.toString();
  }

  /** True if the server announces CIMD support and {@code url} can be a client id (https, with a path). */
  static boolean usable(AuthorizationServerMetadata md, URI url) {
    Object supported = md.getCustomParameter(SUPPORTED);
    return url != null && "https".equalsIgnoreCase(url.getScheme()) && url.getRawPath() != null
        && url.getRawPath().length() > 1 && (Boolean.TRUE.equals(supported) || "true".equals(supported));
  }
}
