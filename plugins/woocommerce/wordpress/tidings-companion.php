<?php
/**
 * Plugin Name:          Tidings Companion for WooCommerce
 * Description:          Sends WooCommerce password-reset and new-account events, with their links, and the order details the shop owner sends a customer, to a Tidings hub, and switches off WooCommerce's own copy of those emails whenever Tidings accepted the event.
 * Version:              1.1.0
 * Requires at least:    5.6
 * Requires PHP:         7.4
 * WC requires at least: 6.0
 * Author:               Tidings
 * License:              MIT
 * Text Domain:          tidings-companion
 *
 * Settings: define TIDINGS_HUB_URL, TIDINGS_API_KEY, TIDINGS_STORE_ID and TIDINGS_WEBHOOK_SECRET in
 * wp-config.php, or fill in Settings → Tidings (the constants win). Password reset and new account
 * need the API key; order details go out as a signed webhook and need the webhook secret instead.
 *
 * Never lose a mail: WooCommerce's own email is switched off only for a request in which Tidings
 * answered 2xx for that very event. Missing settings, a refused connection, a timeout, a 4xx or
 * a 5xx all leave WooCommerce's email exactly as the shop configured it.
 */

defined( 'ABSPATH' ) || exit;

final class Tidings_Companion {

	const TIMEOUT = 5;

	/** @var array<int,bool> user id => Tidings accepted the reset event of this request. */
	private static $reset_accepted = array();

	/** @var array<int,bool> user id => password generated, for new-account mails about to go out. */
	private static $new_customers = array();

	/** @var array<int,bool> user id => Tidings accepted account.created (one POST per customer). */
	private static $created_accepted = array();

	/** @var array<int,bool> order id => Tidings accepted the order details of the resend under way. */
	private static $invoice_accepted = array();

	public static function init() {
		/*
		 * Password reset. WC_Shortcode_My_Account::retrieve_password() creates the key with
		 * get_password_reset_key(), loads WC()->mailer() and then fires
		 * do_action( 'woocommerce_reset_password_notification', $user_login, $key ).
		 * WC_Email_Customer_Reset_Password::trigger() listens on that same action at priority 10
		 * and asks is_enabled() (the filter below) before it sends, so at priority 5 our POST
		 * finishes before WooCommerce decides.
		 */
		add_action( 'woocommerce_reset_password_notification', array( __CLASS__, 'on_reset_requested' ), 5, 2 );
		add_filter( 'woocommerce_email_enabled_customer_reset_password', array( __CLASS__, 'filter_reset_email' ), 10, 2 );

		/*
		 * New account. wc_create_new_customer() fires woocommerce_created_customer
		 * ( $customer_id, $new_customer_data, $password_generated ); WC_Emails::send_transactional_email()
		 * relays it with the same arguments as woocommerce_created_customer_notification, at once or
		 * from the background queue when woocommerce_defer_transactional_emails is on, and
		 * WC_Emails::customer_new_account() (priority 10) runs WC_Email_Customer_New_Account::trigger().
		 * That trigger ALWAYS calls get_password_reset_key() (generate_set_password_url(), WC >= 6.0)
		 * before is_enabled(), and WordPress keeps only the newest key per user: a key made by us
		 * earlier would be dead by the time the customer clicks. So we note the customer at
		 * priority 5 and post from inside is_enabled(), where WooCommerce's own, valid
		 * set_password_url already exists and its mail is not yet sent.
		 */
		add_action( 'woocommerce_created_customer_notification', array( __CLASS__, 'on_customer_created' ), 5, 3 );
		add_filter( 'woocommerce_email_enabled_customer_new_account', array( __CLASS__, 'filter_new_account_email' ), 10, 3 );

		/*
		 * Order details ("invoice"), sent by the shop owner. Order actions → "Send order details to
		 * customer" (WC_Meta_Box_Order_Actions::save(), action send_order_details) and the REST routes
		 * POST /wc/v3/orders/{id}/actions/send_order_details and …/send_email with template
		 * customer_invoice (OrderActionsRestController::send_order_details(), WC 9.x) all run
		 *   do_action( 'woocommerce_before_resend_order_emails', $order, 'customer_invoice' );
		 *   WC()->mailer()->customer_invoice( $order );
		 *   do_action( 'woocommerce_after_resend_order_email', $order, 'customer_invoice' );
		 * The meta box handles send_order_details itself, so woocommerce_order_action_send_order_details
		 * never fires. WC_Email_Customer_Invoice is a manual email: its trigger() never asks
		 * is_enabled(); it sends whenever get_recipient() is not empty (send_if_recipient() since
		 * WC 10.9, `if ( $this->get_recipient() )` before), and WC_Email::get_recipient() passes the
		 * order's billing email through woocommerce_email_recipient_customer_invoice. So we post
		 * before, answer '' from that filter for that order when Tidings accepted, and forget after.
		 */
		add_action( 'woocommerce_before_resend_order_emails', array( __CLASS__, 'on_invoice_requested' ), 10, 2 );
		add_filter( 'woocommerce_email_recipient_customer_invoice', array( __CLASS__, 'filter_invoice_recipient' ), 10, 2 );
		add_action( 'woocommerce_after_resend_order_email', array( __CLASS__, 'on_invoice_done' ), 10, 2 );

		add_action( 'admin_init', array( __CLASS__, 'register_settings' ) );
		add_action( 'admin_menu', array( __CLASS__, 'add_settings_page' ) );
	}

	public static function on_reset_requested( $user_login, $reset_key ) {
		$user = $user_login instanceof WP_User ? $user_login : get_user_by( 'login', (string) $user_login );
		if ( ! $user instanceof WP_User || ! is_string( $reset_key ) || '' === $reset_key ) {
			return;
		}
		// WooCommerce's own link, as templates/emails/customer-reset-password.php (9.3.0+) builds it.
		$reset_url = add_query_arg(
			array(
				'key'   => $reset_key,
				'id'    => $user->ID,
				'login' => rawurlencode( $user->user_login ),
			),
			wc_get_endpoint_url( 'lost-password', '', wc_get_page_permalink( 'myaccount' ) )
		);
		$data      = array(
			'reset_url' => esc_url_raw( $reset_url ),
			'username'  => (string) $user->user_login,
			'login_url' => esc_url_raw( wc_get_page_permalink( 'myaccount' ) ),
		);
		$key       = 'woo:reset:' . $user->ID . ':' . substr( hash( 'sha256', $reset_key ), 0, 16 );

		self::$reset_accepted[ (int) $user->ID ] = self::send( 'account.password_reset', $key, $user, $data );
	}

	public static function filter_reset_email( $enabled, $user = null ) {
		if ( $user instanceof WP_User && ! empty( self::$reset_accepted[ (int) $user->ID ] ) ) {
			return false;
		}
		return $enabled;
	}

	public static function on_customer_created( $customer_id, $new_customer_data = array(), $password_generated = false ) {
		if ( $customer_id ) {
			self::$new_customers[ (int) $customer_id ] = (bool) $password_generated;
		}
	}

	public static function filter_new_account_email( $enabled, $user = null, $email = null ) {
		// Only the trigger of a customer noted above; admin screens and other calls pass through.
		if ( ! $user instanceof WP_User || ! isset( self::$new_customers[ (int) $user->ID ] ) ) {
			return $enabled;
		}
		$id = (int) $user->ID;
		if ( ! isset( self::$created_accepted[ $id ] ) ) {
			$data = array(
				'username'  => (string) $user->user_login,
				'login_url' => esc_url_raw( wc_get_page_permalink( 'myaccount' ) ),
			);
			if ( self::$new_customers[ $id ] ) {
				// WooCommerce's link, built a moment ago in trigger(); its own fallback otherwise.
				$url = is_object( $email ) && ! empty( $email->set_password_url )
					? $email->set_password_url : wc_get_account_endpoint_url( 'lost-password' );
				$data['set_password_url'] = esc_url_raw( $url );
			}
			self::$created_accepted[ $id ] = self::send( 'account.created', 'woo:customer:' . $id, $user, $data );
		}
		return self::$created_accepted[ $id ] ? false : $enabled;
	}

	public static function on_invoice_requested( $order, $email_type = '' ) {
		if ( 'customer_invoice' !== $email_type ) {
			return; // 'new_order' (the admin's copy) and other resends are WooCommerce's alone.
		}
		$order_id = self::order_id( $order );
		if ( $order_id > 0 ) {
			unset( self::$invoice_accepted[ $order_id ] );
			self::$invoice_accepted[ $order_id ] = self::send_invoice( $order_id );
		}
	}

	public static function filter_invoice_recipient( $recipient, $order = null ) {
		$order_id = self::order_id( $order );
		return $order_id > 0 && ! empty( self::$invoice_accepted[ $order_id ] ) ? '' : $recipient;
	}

	public static function on_invoice_done( $order, $email_type = '' ) {
		if ( 'customer_invoice' === $email_type ) {
			unset( self::$invoice_accepted[ self::order_id( $order ) ] );
		}
	}

	private static function order_id( $order ) {
		if ( is_object( $order ) ) {
			return method_exists( $order, 'get_id' ) ? (int) $order->get_id() : 0;
		}
		return is_numeric( $order ) ? (int) $order : 0;
	}

	/**
	 * Delivers the order to Tidings as WooCommerce delivers an "action" webhook, signed with the
	 * store's webhook secret; true only when Tidings answered 2xx and queued the mail.
	 */
	private static function send_invoice( $order_id ) {
		$hub_url  = self::setting( 'hub_url' );
		$store_id = self::setting( 'store_id' );
		$secret   = self::setting( 'webhook_secret' );
		if ( '' === $hub_url || '' === $store_id || '' === $secret ) {
			self::log( 'warning', 'settings incomplete (TIDINGS_HUB_URL, TIDINGS_STORE_ID, TIDINGS_WEBHOOK_SECRET); WooCommerce sends its own order.invoice email' );
			return false;
		}
		$order = self::order_rest_data( $order_id );
		if ( ! is_array( $order ) || ! isset( $order['id'] ) || (int) $order['id'] !== $order_id ) {
			$why = is_wp_error( $order ) ? $order->get_error_message()
				: ( is_array( $order ) && isset( $order['message'] ) && is_string( $order['message'] ) ? $order['message'] : 'no order data' );
			self::log( 'error', "could not read order $order_id from WooCommerce's REST API ($why); WooCommerce sends its own order.invoice email" );
			return false;
		}
		$body = wp_json_encode(
			array(
				'action'     => 'tidings_order_invoice',
				'arg'        => $order,
				'request_id' => wp_generate_uuid4(), // One per click: Tidings mails each click once.
			)
		);
		if ( false === $body ) {
			self::log( 'error', "could not encode order $order_id as JSON; WooCommerce sends its own order.invoice email" );
			return false;
		}
		// WC_Webhook::generate_signature(): base64 HMAC-SHA256 of the exact body, keyed with the secret
		// after wp_specialchars_decode( $secret, ENT_QUOTES ); Tidings checks it the same way.
		$signature = base64_encode( hash_hmac( 'sha256', $body, wp_specialchars_decode( $secret, ENT_QUOTES ), true ) ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode
		$answer    = self::post(
			rtrim( $hub_url, '/' ) . '/webhooks/woocommerce/' . rawurlencode( $store_id ),
			array(
				'Content-Type'           => 'application/json',
				'X-WC-Webhook-Topic'     => 'action.tidings_order_invoice',
				'X-WC-Webhook-Resource'  => 'action',
				'X-WC-Webhook-Event'     => 'tidings_order_invoice',
				'X-WC-Webhook-Signature' => $signature,
			),
			$body,
			'order.invoice',
			"order.invoice of order $order_id"
		);
		if ( null === $answer ) {
			return false;
		}
		if ( empty( $answer['events'] ) ) {
			// A hub that does not know this topic acknowledges it with 200 and "events": [].
			self::log( 'warning', "Tidings acknowledged order $order_id but queued no mail (a hub older than the order.invoice event?); WooCommerce sends its own order.invoice email" );
			return false;
		}
		return true;
	}

	/**
	 * The order as WooCommerce's webhooks carry it. WC_Webhook::build_payload() (through
	 * get_wp_api_payload()) builds it with WC()->api->get_endpoint_data(
	 * "/wc/{$version}/{$resource}s/{$resource_id}" ) up to WC 8.9, and since 9.0 with
	 * RestApiUtil::get_endpoint_data(), the same code: a GET WP_REST_Request through
	 * rest_do_request(), response_to_data() and a JSON round trip. WC()->api has the method in
	 * WC_API (3.7-8.9) and in LegacyRestApiStub (9.1+); WC 9.0.x has only RestApiUtil. It runs as
	 * the current user, who has just used the order screen or the orders REST API; an error
	 * answer (a 403, say) leaves the mail to WooCommerce.
	 */
	private static function order_rest_data( $order_id ) {
		$endpoint = "/wc/v3/orders/{$order_id}";
		$api      = function_exists( 'WC' ) ? WC()->api : null;
		if ( is_object( $api ) && method_exists( $api, 'get_endpoint_data' ) ) {
			return $api->get_endpoint_data( $endpoint );
		}
		$util = 'Automattic\\WooCommerce\\Utilities\\RestApiUtil';
		if ( function_exists( 'wc_get_container' ) && class_exists( $util ) ) {
			return wc_get_container()->get( $util )->get_endpoint_data( $endpoint );
		}
		return null;
	}

	/** POSTs one event; true only when Tidings answered 2xx (202 queued, 200 duplicate). */
	private static function send( $type, $idempotency_key, WP_User $user, array $data ) {
		$hub_url  = self::setting( 'hub_url' );
		$api_key  = self::setting( 'api_key' );
		$store_id = self::setting( 'store_id' );
		if ( '' === $hub_url || '' === $api_key || '' === $store_id ) {
			self::log( 'warning', "settings incomplete (TIDINGS_HUB_URL, TIDINGS_API_KEY, TIDINGS_STORE_ID); WooCommerce sends its own $type email" );
			return false;
		}
		$name = trim( $user->first_name . ' ' . $user->last_name );
		$body = wp_json_encode(
			array(
				'store'           => $store_id,
				'type'            => $type,
				'idempotency_key' => $idempotency_key,
				'recipient'       => array(
					'email'  => (string) $user->user_email,
					'name'   => '' !== $name ? $name : ( '' !== (string) $user->display_name ? (string) $user->display_name : null ),
					'locale' => get_user_locale( $user ),
				),
				'data'            => $data,
			)
		);
		if ( false === $body ) {
			self::log( 'error', "could not encode the $type event as JSON; WooCommerce sends its own email" );
			return false;
		}
		$answer = self::post(
			rtrim( $hub_url, '/' ) . '/api/v1/events',
			array(
				'Authorization' => 'Bearer ' . $api_key,
				'Content-Type'  => 'application/json',
			),
			$body,
			$type,
			"$type $idempotency_key"
		);
		return null !== $answer;
	}

	/**
	 * POSTs $body to Tidings. Returns its decoded answer (an array, maybe empty) when it answered
	 * 2xx; otherwise logs why and returns null. $type names the email WooCommerce sends instead.
	 */
	private static function post( $url, array $headers, $body, $type, $what ) {
		$response = wp_remote_post(
			$url,
			array(
				'timeout'     => self::TIMEOUT,
				'blocking'    => true,
				'redirection' => 0,
				'headers'     => $headers,
				'body'        => $body,
				'data_format' => 'body',
			)
		);
		if ( is_wp_error( $response ) ) {
			self::log( 'warning', "Tidings is unreachable ({$response->get_error_message()}); WooCommerce sends its own $type email" );
			return null;
		}
		$code   = (int) wp_remote_retrieve_response_code( $response );
		$raw    = (string) wp_remote_retrieve_body( $response );
		$answer = json_decode( $raw, true );
		if ( $code >= 200 && $code < 300 ) {
			return is_array( $answer ) ? $answer : array();
		}
		$detail = is_array( $answer ) && isset( $answer['detail'] ) ? $answer['detail'] : substr( $raw, 0, 500 );
		$detail = is_string( $detail ) ? $detail : (string) wp_json_encode( $detail );
		if ( $code >= 400 && $code < 500 ) {
			$error = is_array( $answer ) && isset( $answer['error'] ) && is_string( $answer['error'] ) ? $answer['error'] . ': ' : '';
			self::log( 'error', "Tidings rejected $what (HTTP $code): $error$detail; WooCommerce sends its own email" );
		} else {
			self::log( 'warning', "Tidings is unreachable (HTTP $code: $detail); WooCommerce sends its own $type email" );
		}
		return null;
	}

	private static function setting( $name ) {
		$constant = 'TIDINGS_' . strtoupper( $name );
		$value    = defined( $constant ) ? constant( $constant ) : get_option( 'tidings_' . $name, '' );
		return is_string( $value ) ? trim( $value ) : '';
	}

	private static function log( $level, $message ) {
		if ( function_exists( 'wc_get_logger' ) ) {
			wc_get_logger()->log( $level, $message, array( 'source' => 'tidings-companion' ) );
		} else {
			error_log( 'Tidings companion: ' . $message ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
		}
	}

	public static function register_settings() {
		$string = array( 'type' => 'string', 'default' => '' );
		register_setting( 'tidings', 'tidings_hub_url', $string + array( 'sanitize_callback' => 'esc_url_raw' ) );
		register_setting( 'tidings', 'tidings_store_id', $string + array( 'sanitize_callback' => 'sanitize_text_field' ) );
		register_setting( 'tidings', 'tidings_api_key', $string + array( 'sanitize_callback' => array( __CLASS__, 'sanitize_api_key' ) ) );
		register_setting( 'tidings', 'tidings_webhook_secret', $string + array( 'sanitize_callback' => array( __CLASS__, 'sanitize_webhook_secret' ) ) );
	}

	/** An empty API key field keeps the stored key (the page never prints it). */
	public static function sanitize_api_key( $value ) {
		$value = sanitize_text_field( (string) $value );
		return '' === $value ? (string) get_option( 'tidings_api_key', '' ) : $value;
	}

	/** Likewise for the webhook secret, which is otherwise kept as typed: it is an HMAC key. */
	public static function sanitize_webhook_secret( $value ) {
		$value = trim( (string) preg_replace( '/[\x00-\x1f\x7f]/', '', (string) $value ) );
		return '' === $value ? (string) get_option( 'tidings_webhook_secret', '' ) : $value;
	}

	public static function add_settings_page() {
		add_options_page( 'Tidings', 'Tidings', 'manage_options', 'tidings', array( __CLASS__, 'render_settings_page' ) );
	}

	public static function render_settings_page() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$fields = array(
			'hub_url'        => array( 'Hub URL', 'url', 'https://tidings.example.com' ),
			'api_key'        => array( 'API key', 'password', '' !== self::setting( 'api_key' ) ? 'stored; leave empty to keep it' : '' ),
			'store_id'       => array( 'Store id (as in tidings.toml)', 'text', 'my-shop' ),
			'webhook_secret' => array( 'Webhook secret (webhook_secret in tidings.toml)', 'password', '' !== self::setting( 'webhook_secret' ) ? 'stored; leave empty to keep it' : '' ),
		);
		echo '<div class="wrap"><h1>Tidings</h1><form method="post" action="options.php">';
		settings_fields( 'tidings' );
		echo '<table class="form-table" role="presentation">';
		foreach ( $fields as $name => list( $label, $type, $placeholder ) ) {
			$constant = 'TIDINGS_' . strtoupper( $name );
			$locked   = defined( $constant );
			printf(
				'<tr><th scope="row"><label for="tidings_%1$s">%2$s</label></th><td><input class="regular-text" type="%3$s" id="tidings_%1$s" name="tidings_%1$s" value="%4$s" placeholder="%5$s"%6$s>%7$s</td></tr>',
				esc_attr( $name ),
				esc_html( $label ),
				esc_attr( $type ),
				esc_attr( 'password' === $type ? '' : self::setting( $name ) ),
				esc_attr( $placeholder ),
				$locked ? ' disabled' : '',
				$locked ? '<p class="description">' . esc_html( "Set by $constant in wp-config.php." ) . '</p>' : ''
			);
		}
		echo '</table>';
		submit_button();
		echo '</form></div>';
	}
}

Tidings_Companion::init();
