import { DefaultApolloClient } from '@vue/apollo-composable'
import { createApp } from 'vue'
import App from './App.vue'
import { createVocClient } from './graphql/client'
import { createVocRouter } from './router'
import { bindSession, expire } from './session/session'
import './styles.css'

const client = createVocClient(expire)
bindSession(client)
const router = createVocRouter()

createApp(App).provide(DefaultApolloClient, client.apollo).use(router).mount('#app')
