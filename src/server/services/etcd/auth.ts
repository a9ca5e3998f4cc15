/**
 * etcd's Auth service is not served yet (authentication arrives with its own issue): every call
 * answers UNIMPLEMENTED with a sentence saying so. Since authentication can never be enabled,
 * every other service serves every client.
 */
import {AuthService} from '../../../generated/etcd/etcdserverpb/auth.js'
import type {UntypedServiceImplementation} from '@grpc/grpc-js'
import {unimplementedService} from '../common.js'

/** The answer to every Auth call. */
export const AUTH_UNSUPPORTED = 'authentication is not supported by this raftctl version'

export const authService = (): UntypedServiceImplementation => unimplementedService(AuthService, AUTH_UNSUPPORTED)
